/**
 * The README's inputs and outputs tables, generated from action.yml so the two cannot drift.
 * `npm run docs` rewrites them; a test fails when the committed README differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { renderFieldTable } from '../__tests__/contract/fields.js';

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const cell = (s: string) => s.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim();

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const a = parse(actionYml) as ActionYml;
  const inputs = ['| input | required | default | description |', '|---|---|---|---|'];
  for (const [name, i] of Object.entries(a.inputs)) {
    inputs.push(`| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${cell(i.description)} |`);
  }
  const outputs = ['| output | description |', '|---|---|'];
  for (const [name, o] of Object.entries(a.outputs)) outputs.push(`| \`${name}\` | ${cell(o.description)} |`);
  return { inputs: inputs.join('\n'), outputs: outputs.join('\n') };
}

export function updateReadme(readme: string, actionYml: string): string {
  const t = renderTables(actionYml);
  const put = (text: string, tag: string, body: string) => {
    const re = new RegExp(`(<!-- ${tag}:start -->)[\\s\\S]*?(<!-- ${tag}:end -->)`);
    if (!re.test(text)) throw new Error(`README.md lacks the <!-- ${tag}:start/end --> markers`);
    return text.replace(re, (_m, start: string, end: string) => `${start}\n${body}\n${end}`);
  };
  return put(put(put(readme, 'inputs', t.inputs), 'outputs', t.outputs), 'fields', renderFieldTable());
}

// Run as a script, not imported by a test. Compared as URLs so a Windows path (backslashes, drive letter) matches too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.cwd();
  const readmePath = join(root, 'README.md');
  const next = updateReadme(readFileSync(readmePath, 'utf8'), readFileSync(join(root, 'action.yml'), 'utf8'));
  writeFileSync(readmePath, next);
  console.log('README.md tables updated from action.yml');
}
