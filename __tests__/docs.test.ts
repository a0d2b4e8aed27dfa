import { spawnSync } from 'node:child_process';
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

  it('no output shares a name with an input (one name, one meaning)', () => {
    const a = parse(actionYml) as { inputs: object; outputs: object };
    const inputs = new Set(Object.keys(a.inputs));
    expect(Object.keys(a.outputs).filter((o) => inputs.has(o))).toEqual([]);
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

  it('action.yml runs main and post from their own entry files on node24 (issue 18: never one file told apart by state)', () => {
    const a = parse(actionYml) as { runs: Record<string, string> };
    expect(a.runs).toMatchObject({ using: 'node24', main: 'dist/main.js', post: 'dist/post.js' });
  });

  it('dist/main.js and dist/post.js each start their own step of the shared bundle, and importing the bundle runs nothing', () => {
    const code = (f: string) => readFileSync(f, 'utf8').replace(/^\/\/.*\n/gm, '').trim();
    expect(code('dist/main.js')).toBe("import { main } from './index.js';\n\nawait main();");
    expect(code('dist/post.js')).toBe("import { post } from './index.js';\n\nawait post();");
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./dist/index.js'); console.log(Object.keys(m).sort().join(','));"], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('main,post\n');
  });
});
