import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { firstSentence, readmeProse, renderTables, updateApiDoc, updateBrokerDoc, updateInputsDoc, updateReadme } from '../scripts/docs.js';
import { FIELDS } from './contract/fields.js';

const actionYml = readFileSync('action.yml', 'utf8');
const readme = readFileSync('README.md', 'utf8');
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('docs', () => {
  it('README, docs/inputs.md and docs/api.md tables are the ones generated (run `npm run docs`)', () => {
    expect(readme).toBe(updateReadme(readme, actionYml));
    const inputsDoc = readFileSync('docs/inputs.md', 'utf8');
    expect(inputsDoc).toBe(updateInputsDoc(inputsDoc, actionYml));
    const apiDoc = readFileSync('docs/api.md', 'utf8');
    expect(apiDoc).toBe(updateApiDoc(apiDoc));
    const brokerDoc = readFileSync('docs/broker.md', 'utf8');
    expect(brokerDoc).toBe(updateBrokerDoc(brokerDoc));
  });

  it('the generator sees every input and output: the README its first sentence, docs/inputs.md all of it', () => {
    const a = parse(actionYml) as { inputs: Record<string, { description: string }>; outputs: Record<string, { description: string }> };
    const short = renderTables(actionYml);
    const full = renderTables(actionYml, { full: true });
    for (const [name, { description }] of Object.entries(a.inputs)) {
      expect(short.inputs).toContain(`| \`${name}\` |`);
      expect(full.inputs).toContain(`| \`${name}\` |`);
      expect(description.startsWith(firstSentence(description))).toBe(true);
    }
    for (const name of Object.keys(a.outputs)) expect(short.outputs).toContain(`| \`${name}\` |`);
    expect(words(full.inputs)).toBeGreaterThan(words(short.inputs));
  });

  it('a first sentence ends at a full stop and a space, not at e.g., a file name or a host', () => {
    expect(firstSentence('DigiCert ONE host (https:// accepted). For example one.digicert.com.')).toBe('DigiCert ONE host (https:// accepted).');
    expect(firstSentence('The roles (e.g. `A: b`) of a user. More.')).toBe('The roles (e.g. `A: b`) of a user.');
    expect(firstSentence('The PKCS#12 file (.p12) of clientauth.<host> here. More.')).toBe('The PKCS#12 file (.p12) of clientauth.<host> here.');
    expect(firstSentence('No full stop at all')).toBe('No full stop at all');
  });

  it('the README is for users: under 2,000 words, the minimal snippet first, not affiliated with DigiCert', () => {
    // The budget is for prose: the generated inputs and outputs tables grow with every input and are not counted.
    const prose = words(readmeProse(readme));
    expect(prose, `the README's prose (generated tables between <!-- x:start/end --> markers not counted) has ${prose} words; the budget is 2,000: move detail to docs/`).toBeLessThan(2000);
    const first = /^```ya?ml\n([\s\S]*?)^```/m.exec(readme)![1]!;
    const step = (parse(first) as { jobs: Record<string, { steps: { uses?: string; with?: object }[] }> }).jobs.release!.steps[0]!;
    expect(step.uses).toMatch(/d1-token-action@v1$/);
    expect(Object.keys(step.with!).sort()).toEqual(['api-key', 'host', 'service-user-id']);
    expect(readme).toMatch(/Not affiliated with DigiCert/);
    // Contributor material lives in CONTRIBUTING.md and docs/, not here.
    for (const moved of ['## The emulator', '## Development', 'npm run bench', 'harness/runner.ts']) expect(readme).not.toContain(moved);
  });

  it('the README says the wire format is unconfirmed for as long as the contract table has seen no field on a real tenant', () => {
    const seen = FIELDS.some((f) => f.seenOnRealTenant);
    expect(readme.includes('**Status: not yet seen on a real tenant.**')).toBe(!seen);
  });

  it('the length budget counts prose only: a README that grows by a generated table still fits, one that grows by prose does not', () => {
    const table = `<!-- inputs:start -->\n${'| `x` | | many words in a generated row |\n'.repeat(400)}<!-- inputs:end -->`;
    expect(words(readmeProse(`${readme}\n${table}`))).toBe(words(readmeProse(readme)));
    expect(words(readmeProse(`${readme}\n${'prose '.repeat(50)}`))).toBe(words(readmeProse(readme)) + 50);
  });

  it('a new input is one change: declared in action.yml and src/runner/input-modes.ts, every table comes from them', () => {
    // A test copy of action.yml with one more input: the generated tables carry it at once; the catalogue check
    // (input-modes.test.ts) fails until src/runner/input-modes.ts declares it too.
    const copy = actionYml.replace(/^inputs:\n/m, "inputs:\n  new-input:\n    description: 'A new input. More words.'\n    required: false\n");
    const readmeCopy = updateReadme(readme, copy);
    expect(readmeCopy).toContain('| `new-input` |  | A new input. |');
    expect(updateInputsDoc(readFileSync('docs/inputs.md', 'utf8'), copy)).toContain('| `new-input` |  | A new input. More words. |');
    expect(words(readmeProse(readmeCopy))).toBe(words(readmeProse(readme)));
  });

  it('no output shares a name with an input (one name, one meaning)', () => {
    const a = parse(actionYml) as { inputs: object; outputs: object };
    const inputs = new Set(Object.keys(a.inputs));
    expect(Object.keys(a.outputs).filter((o) => inputs.has(o))).toEqual([]);
  });

  it('the README\'s first table is the mode chooser (after the two commands), linking the set-up page on its first screen', () => {
    const firstTable = readme.split('\n').findIndex((l) => l.startsWith('|'));
    expect(readme.split('\n')[firstTable]).toBe('| mode | the job holds | your organisation runs | copy |');
    const chooser = readme.split('\n').slice(firstTable, firstTable + 8).join('\n');
    for (const mode of ['| API key |', '| API key, signing |', '| mutual TLS |', '| mutual TLS, signing |', '| broker |', '| broker, signing |']) expect(chooser).toContain(mode);
    expect(readme.split('\n').slice(0, firstTable + 12).join('\n')).toContain('(docs/setup.md)');
    expect(readme.indexOf('npm ci && npm run demo')).toBeLessThan(readme.indexOf('| mode |'));
    // The broker has a section of its own, not a place under signing.
    expect(readme).toMatch(/^## The broker/m);
  });

  it('README starts with the two commands', () => {
    const code = readme.split('```')[1] ?? '';
    expect(code).toContain('npm ci && npm run demo');
    expect(code).toContain('npm ci && npm test');
  });

  it('the version the action reports (User-Agent) is the package version', async () => {
    const { VERSION } = await import('../src/platform/version.js');
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

describe('docs say what the code does about trust', () => {
  // The action never reads NODE_EXTRA_CA_CERTS (an earlier step could plant it through GITHUB_ENV); a page or input
  // description telling users to trust a CA that way (docs/broker.md did, for a private broker CA) sends them into the
  // very pattern the threat model calls hostile, and does not even work.
  it('every mention of NODE_EXTRA_CA_CERTS in what users read says it is not used', () => {
    const pages = ['README.md', 'SECURITY.md', 'action.yml', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const bad: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8').replace(/\s+/g, ' ');
      for (const sentence of text.split(/(?<=[.:;])\s|\|/)) {
        if (sentence.includes('NODE_EXTRA_CA_CERTS') && !/\b(not|never|ignored?|nor|planted)\b/i.test(sentence)) bad.push(`${page}: ${sentence.trim().slice(0, 160)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
