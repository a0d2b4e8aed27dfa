/**
 * The import rules of src/ and broker/ (.dependency-cruiser.mjs, `npm run lint:imports`): the real tree passes, and a copy of it
 * with forbidden imports added fails with exactly the rules those imports break. Both run the same CLI CI runs.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: { name: string; severity: string };
  from: string;
  to: string;
}

function cruise(cwd: string): { status: number | null; violations: Violation[]; modules: number } {
  const config = join(process.cwd(), '.dependency-cruiser.mjs');
  const r = spawnSync(process.execPath, [CLI, 'src', 'broker', '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (!r.stdout) throw new Error(`depcruise printed nothing (exit ${r.status}): ${r.stderr}`);
  const result = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { status: r.status, violations: result.summary.violations, modules: result.summary.totalCruised };
}

const show = (vs: Violation[]) => vs.map((v) => `${v.rule.severity} ${v.rule.name}: ${v.from} -> ${v.to}`).sort();

// Under .tmp/ so node_modules resolves as in the project (undici, @actions/core), and out of git and biome.
const fixture = join(process.cwd(), '.tmp', `import-rules-${process.pid}`);
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

/** A copy of src/ (with a stand-in harness/runner.ts and a module in no layer), `lines` appended to its files. */
function copyOfSrc(name: string, lines: Record<string, string>): string {
  const dir = join(fixture, name);
  mkdirSync(join(dir, 'harness'), { recursive: true });
  cpSync('src', join(dir, 'src'), { recursive: true });
  cpSync('broker', join(dir, 'broker'), { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src', 'broker'] }));
  writeFileSync(join(dir, 'harness', 'runner.ts'), 'export const runner = 1;\n');
  writeFileSync(join(dir, 'src', 'unplaced.ts'), 'export const x = 1;\n');
  // Keys are paths under src/, or under broker/ when they start with `../broker/`.
  for (const [file, line] of Object.entries(lines)) appendFileSync(join(dir, 'src', file), `\n${line}\n`);
  return dir;
}

describe('import rules (npm run lint:imports)', () => {
  it('the source tree passes: no error and no warning, every module in a layer', () => {
    const r = cruise(process.cwd());
    expect(show(r.violations)).toEqual([]);
    expect(r.status).toBe(0);
    // It did look: every .ts file of src/ (and the packages they import) was cruised.
    const files = ['src', 'broker'].flatMap((d) => readdirSync(d, { recursive: true }).map(String)).filter((f) => f.endsWith('.ts'));
    expect(r.modules).toBeGreaterThanOrEqual(files.length);
  });

  // One forbidden import per copy of src/, the rules it must break, and (for a cycle) the edge that closes it. Other
  // violations a case may cause are cycles the new import closes through existing imports; nothing else is allowed.
  const cases: { file: string; line: string; edge: string; rules: string[] }[] = [
    // Lower layers importing upper ones; a type-only import counts too.
    { file: 'platform/http.ts', line: "import type { Config } from '../runner/inputs.js';", edge: 'src/platform/http.ts -> src/runner/inputs.ts', rules: ['error platform-not-up'] },
    { file: 'platform/text-safety.ts', line: "import { KINDS } from '../credentials/index.js';", edge: 'src/platform/text-safety.ts -> src/credentials/index.ts', rules: ['error platform-not-up'] },
    { file: 'd1/client.ts', line: "import type { MainDeps } from '../job/deps.js';", edge: 'src/d1/client.ts -> src/job/deps.ts', rules: ['error d1-not-up'] },
    // The arrows the issue found in a trial grouping: key material reaching into the input parser, the HTTP client
    // into the runner edge.
    { file: 'keys/bootstrap-certificate.ts', line: "import type { Auth } from '../runner/inputs.js';", edge: 'src/keys/bootstrap-certificate.ts -> src/runner/inputs.ts', rules: ['error keys-not-up'] },
    { file: 'platform/http.ts', line: "import { guardedCore } from '../runner/core.js';", edge: 'src/platform/http.ts -> src/runner/core.ts', rules: ['error platform-not-up'] },
    { file: 'credentials/mint.ts', line: "import { STATE } from '../runner/state.js';", edge: 'src/credentials/mint.ts -> src/runner/state.ts', rules: ['error credentials-not-up'] },
    { file: 'runner/state.ts', line: "import { stepConfig } from '../job/deps.js';", edge: 'src/runner/state.ts -> src/job/deps.ts', rules: ['error runner-not-up'] },
    { file: 'job/deps.ts', line: "import type { PostOutcome } from '../steps/post.js';", edge: 'src/job/deps.ts -> src/steps/post.ts', rules: ['error job-not-up'] },
    // One step importing another (preflight -> main was the one the tree had before the steps' shared types moved down).
    { file: 'steps/preflight.ts', line: "import type { MainDeps as Deps } from './main.js';", edge: 'src/steps/preflight.ts -> src/steps/main.ts', rules: ['error steps-not-to-steps'] },
    { file: 'steps/post.ts', line: "import { runMain } from './main.js';", edge: 'src/steps/post.ts -> src/steps/main.ts', rules: ['error steps-not-to-steps'] },
    // The action importing test tooling; an entry imported by something other than index.ts.
    { file: 'runner/inputs.ts', line: "import { runner } from '../../harness/runner.js';", edge: 'src/runner/inputs.ts -> harness/runner.ts', rules: ['error src-not-to-tooling'] },
    { file: 'steps/main.ts', line: "import { run } from '../entry/post.js';", edge: 'src/steps/main.ts -> src/entry/post.ts', rules: ['error entry-only-from-index', 'error steps-not-up'] },
    // The broker may use src/'s lower layers, never a step or an entry, nor the test tooling; src/ never imports it.
    { file: '../broker/server.ts', line: "import { runMain } from '../src/steps/main.js';", edge: 'broker/server.ts -> src/steps/main.ts', rules: ['error broker-not-to-steps'] },
    { file: '../broker/policy.ts', line: "import { run } from '../src/entry/main.js';", edge: 'broker/policy.ts -> src/entry/main.ts', rules: ['error broker-not-to-steps'] },
    { file: '../broker/config.ts', line: "import { runner } from '../harness/runner.js';", edge: 'broker/config.ts -> harness/runner.ts', rules: ['error broker-not-to-tooling'] },
    { file: 'job/broker-client.ts', line: "import type { Policy } from '../../broker/policy.js';", edge: 'src/job/broker-client.ts -> broker/policy.ts', rules: ['error src-not-to-broker'] },
    // A module placed in no layer: a warning, which does not fail the check.
    { file: 'runner/core.ts', line: "import { x } from '../unplaced.js';", edge: 'src/runner/core.ts -> src/unplaced.ts', rules: ['warn module-has-a-layer'] },
  ];

  it.each(cases)('a copy of src/ where $edge breaks: $rules', ({ file, line, edge, rules }) => {
    const { violations } = cruise(copyOfSrc(file.replace(/\W/g, '-'), { [file]: line }));
    const on = (v: Violation) => `${v.from} -> ${v.to}` === edge;
    expect(violations.filter(on).map((v) => `${v.rule.severity} ${v.rule.name}`).filter((r) => r !== 'error no-circular').sort()).toEqual(rules);
    expect(show(violations.filter((v) => !on(v) && v.rule.name !== 'no-circular'))).toEqual([]);
  });

  it('an import cycle is an error (reported once, at the edge where the cruise found it)', () => {
    const dir = copyOfSrc('cycle', { 'platform/clock.ts': "import './version.js';", 'platform/version.ts': "import './clock.js';" });
    expect(show(cruise(dir).violations)).toEqual(['error no-circular: src/platform/clock.ts -> src/platform/version.ts']);
  });

  it('the check CI runs (err output) exits non-zero on an error, and says which rule', () => {
    const dir = copyOfSrc('exit', { 'platform/text-safety.ts': "import type { Config } from '../runner/inputs.js';" });
    const r = spawnSync(process.execPath, [CLI, 'src', '--config', join(process.cwd(), '.dependency-cruiser.mjs'), '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('error platform-not-up: src/platform/text-safety.ts → src/runner/inputs.ts');
  });
});
