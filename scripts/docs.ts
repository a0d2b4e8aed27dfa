/**
 * Tables generated so they cannot drift from their source: the README's short inputs and outputs tables (each
 * description's first sentence) and docs/inputs.md's full ones, from action.yml; docs/api.md's field-by-field table,
 * from the contract suite; the honour/refuse table of each input in each mode (docs/inputs.md, docs/broker.md), from
 * src/runner/input-modes.ts. `npm run docs` rewrites them; a test fails when a committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { renderFieldTable } from '../__tests__/contract/fields.js';
import { renderModeTable } from '../src/runner/input-modes.js';

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const cell = (s: string) => s.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim();

/** Up to the first full stop that ends a sentence (not the one of `e.g.`, `i.e.`, or one inside a name like `.p12`). */
export function firstSentence(description: string): string {
  const m = /^[\s\S]*?(?<!\be\.g|\bi\.e)\.(?=\s|$)/.exec(description.trim());
  return m ? m[0] : description.trim();
}

/** `full`: every word of each description (docs/inputs.md); otherwise its first sentence (README). */
export function renderTables(actionYml: string, opts: { full?: boolean } = {}): { inputs: string; outputs: string } {
  const a = parse(actionYml) as ActionYml;
  const text = (d: string) => cell(opts.full ? d : firstSentence(d));
  const inputs = ['| input | default | description |', '|---|---|---|'];
  for (const [name, i] of Object.entries(a.inputs)) {
    // No input is required by the runner (it never reads `required:`); the action checks what each mode needs.
    inputs.push(`| \`${name}\` | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${text(i.description)} |`);
  }
  const outputs = ['| output | description |', '|---|---|'];
  for (const [name, o] of Object.entries(a.outputs)) outputs.push(`| \`${name}\` | ${text(o.description)} |`);
  return { inputs: inputs.join('\n'), outputs: outputs.join('\n') };
}

function put(text: string, file: string, tag: string, body: string): string {
  const re = new RegExp(`(<!-- ${tag}:start -->)[\\s\\S]*?(<!-- ${tag}:end -->)`);
  if (!re.test(text)) throw new Error(`${file} lacks the <!-- ${tag}:start/end --> markers`);
  return text.replace(re, (_m, start: string, end: string) => `${start}\n${body}\n${end}`);
}

export function updateReadme(readme: string, actionYml: string): string {
  const t = renderTables(actionYml);
  return put(put(readme, 'README.md', 'inputs', t.inputs), 'README.md', 'outputs', t.outputs);
}

export function updateInputsDoc(doc: string, actionYml: string): string {
  const t = renderTables(actionYml, { full: true });
  return put(put(put(doc, 'docs/inputs.md', 'inputs', t.inputs), 'docs/inputs.md', 'outputs', t.outputs), 'docs/inputs.md', 'modes', renderModeTable());
}

/** docs/broker.md's table of what broker mode honours and refuses, from src/runner/input-modes.ts. */
export function updateBrokerDoc(doc: string): string {
  return put(doc, 'docs/broker.md', 'modes', renderModeTable(['broker']));
}

/** The README's prose: what its length budget counts. Generated tables (between start/end markers) are left out. */
export function readmeProse(readme: string): string {
  return readme.replace(/<!-- ([a-z-]+):start -->[\s\S]*?<!-- \1:end -->/g, '');
}

export function updateApiDoc(doc: string): string {
  return put(doc, 'docs/api.md', 'fields', renderFieldTable());
}

// Run as a script, not imported by a test. Compared as URLs so a Windows path (backslashes, drive letter) matches too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.cwd();
  const actionYml = readFileSync(join(root, 'action.yml'), 'utf8');
  const update = (file: string, f: (text: string) => string) => writeFileSync(join(root, file), f(readFileSync(join(root, file), 'utf8')));
  update('README.md', (t) => updateReadme(t, actionYml));
  update('docs/inputs.md', (t) => updateInputsDoc(t, actionYml));
  update('docs/api.md', updateApiDoc);
  update('docs/broker.md', updateBrokerDoc);
  console.log('README.md, docs/inputs.md, docs/broker.md and docs/api.md tables updated from action.yml, src/runner/input-modes.ts and the contract fields');
}
