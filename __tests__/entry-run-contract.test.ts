/**
 * The contract GitHub's @github/local-action (and any tool that runs an action from source) relies on:
 * src/entry/main.ts and src/entry/post.ts export run(), and importing them does nothing. Each step runs from source
 * in its own process, imported and called the way local-action does it, with the environment GitHub's runner gives
 * (INPUT_*, GITHUB_*, RUNNER_*, and STATE_* from main in post: the runner model builds it), against the emulator.
 * local-action itself is not a dependency: CONTRIBUTING.md says why and how to run it by hand.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const LOADER = pathToFileURL(join(process.cwd(), '__tests__', 'support', 'ts-loader.mjs')).href;
const entry = (step: 'main' | 'post') => pathToFileURL(join(process.cwd(), 'src', 'entry', `${step}.ts`)).href;

// What local-action's run command does with an entry point (its src/commands/run.ts, ESM branch).
const callRun = (step: 'main' | 'post') => `const { run } = await import(${JSON.stringify(entry(step))});
if (typeof run !== 'function') throw new Error('src/entry/${step}.ts does not export a run() function');
await run();
`;
const importOnly = (step: 'main' | 'post') => `const m = await import(${JSON.stringify(entry(step))});
console.log('exports of src/entry/${step}.ts: ' + Object.keys(m).join(','));
`;

const dir = mkdtempSync(join(tmpdir(), 'd1-entry-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This action's action.yml, its runs.main and runs.post pointing at the given scripts. */
function actionWith(name: string, main: string, post: string): string {
  const yml = readFileSync('action.yml', 'utf8')
    .replace("main: 'dist/main.js'", `main: '${name}-main.mjs'`)
    .replace("post: 'dist/post.js'", `post: '${name}-post.mjs'`);
  expect(yml).toContain(`main: '${name}-main.mjs'`);
  writeFileSync(join(dir, `${name}-main.mjs`), main);
  writeFileSync(join(dir, `${name}-post.mjs`), post);
  const file = join(dir, `${name}.action.yml`);
  writeFileSync(file, yml);
  return file;
}

const tenantEnv = useTenant();
let t: Tenant;
beforeAll(() => void (t = tenantEnv.tenant));
const inputs = () => ({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });

describe('run() contract of src/entry (what @github/local-action calls)', () => {
  it('importing either entry does nothing: no request, no output, no state, no line but the exports', async () => {
    const actionYml = actionWith('import', importOnly('main'), importOnly('post'));
    const j = tenantEnv.job(inputs(), {}, { actionYml, nodeArgs: ['--import', LOADER] });
    const before = t.emu.requests.length;
    const main = await j.main();
    const post = await j.post();
    for (const [step, r] of [['main', main], ['post', post]] as const) {
      expect(r.outcome, r.stderr).toBe('success');
      expect(r.log).toEqual([`exports of src/entry/${step}.ts: run`]);
      expect([r.outputs, r.state, r.env, r.summary]).toEqual([{}, {}, {}, '']);
    }
    expect(t.emu.requests.length).toBe(before);
  });

  it('run() of main then run() of post, from source: the token works between them and is dead after', async () => {
    const actionYml = actionWith('run', callRun('main'), callRun('post'));
    const j = tenantEnv.job(inputs(), {}, { actionYml, nodeArgs: ['--import', LOADER] });
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    const token = main.outputs.token!;
    expect(token).toBeTruthy();
    expect(main.outputs['user-id']).toBe(t.s.signer.id);
    expect(await statusWith(t.emu, token)).toBe(200);

    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    expect(post.log.join('\n')).toContain(`Revoked token '${main.outputs['token-name']}'`);
    expect(await statusWith(t.emu, token)).toBe(401);
    expect(t.emu.model.findBySecret(token)?.deleted).toBe(true);
  });

  it('an entry without run() fails the step, as local-action reports it', async () => {
    const actionYml = actionWith('norun', callRun('main').replace('const { run }', 'const { run: _unused, missing: run }'), callRun('post'));
    const j = tenantEnv.job(inputs(), {}, { actionYml, nodeArgs: ['--import', LOADER] });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(main.stderr).toContain('src/entry/main.ts does not export a run() function');
  });
});
