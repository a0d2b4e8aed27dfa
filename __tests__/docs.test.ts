import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTables, updateReadme } from '../scripts/docs.js';

const actionYml = readFileSync('action.yml', 'utf8');
const readme = readFileSync('README.md', 'utf8');

describe('docs', () => {
  it('README inputs/outputs tables are the ones generated from action.yml (run `npm run docs`)', () => {
    expect(readme).toBe(updateReadme(readme, actionYml));
  });

  it('the generator sees every input and output', () => {
    const a = parse(actionYml) as { inputs: object; outputs: object };
    const t = renderTables(actionYml);
    for (const name of Object.keys(a.inputs)) expect(t.inputs).toContain(`| \`${name}\` |`);
    for (const name of Object.keys(a.outputs)) expect(t.outputs).toContain(`| \`${name}\` |`);
  });

  it('README starts with the two commands', () => {
    const code = readme.split('```')[1] ?? '';
    expect(code).toContain('npm ci && npm run demo');
    expect(code).toContain('npm ci && npm test');
  });

  it('the version the action reports (User-Agent) is the package version', async () => {
    const { VERSION } = await import('../src/version.js');
    expect(VERSION).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('action.yml runs dist/index.js as main and post on node24', () => {
    const a = parse(actionYml) as { runs: Record<string, string> };
    expect(a.runs).toMatchObject({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js' });
  });
});
