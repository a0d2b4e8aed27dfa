/**
 * The runner model's own tests: each behaviour it claims to follow from actions/runner, shown with a tiny
 * stand-in action (an entry script) so a wrong model fails here, not silently in the e2e tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseActionDefinition, resolveInputs } from '../harness/action-definition.js';
import { parseCommandV2, parseCommandLegacy, REGISTERED_COMMANDS } from '../harness/workflow-commands.js';
import { RunnerJob, type JobOptions } from '../harness/runner.js';
import { statusWith, useTenant } from './support/emulator.js';

const scratch = mkdtempSync(join(tmpdir(), 'runner-model-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

/** A stand-in action: `body` is the ES module the runner runs as main and post. */
function entry(body: string): string {
  const file = join(scratch, `entry-${n++}.mjs`);
  writeFileSync(file, `import { appendFileSync } from 'node:fs';\nconst isPost = !!process.env.STATE_isPost;\n${body}`);
  return file;
}
const jobs: RunnerJob[] = [];
afterAll(() => {
  for (const j of jobs) j.cleanup();
});
function job(body: string, opts: Partial<JobOptions> = {}): RunnerJob {
  const j = new RunnerJob({ inputs: {}, entry: entry(body), ...opts });
  jobs.push(j);
  return j;
}
const registered = new Set<string>(REGISTERED_COMMANDS);

describe('action.yml inputs (ActionRunner.RunAsync, ActionManifestManager.ConvertInputs)', () => {
  const def = parseActionDefinition(`
inputs:
  plain: { description: x, required: true }
  with default: { description: y, default: '24' }
  old-one: { description: z, deprecationMessage: use plain }
runs: { using: node24, main: a.js, post: a.js }
`);

  it('passes every declared input: its default, or empty; `with:` overrides; required is not checked', () => {
    expect(resolveInputs(def, {}).inputs).toEqual({ plain: '', 'with default': '24', 'old-one': '' });
    expect(resolveInputs(def, {}).warnings).toEqual([]);
    expect(resolveInputs(def, { 'WITH DEFAULT': '1' }).inputs).toEqual({ plain: '', 'WITH DEFAULT': '1', 'old-one': '' });
    expect(def.postIf).toBe('always()');
  });

  it('warns about unexpected and deprecated inputs the way the runner words it', () => {
    expect(resolveInputs(def, { nope: '1', 'old-one': 'x' }).warnings).toEqual([
      "Input 'old-one' has been deprecated with message: use plain",
      "Unexpected input(s) 'nope', valid inputs are ['plain', 'with default', 'old-one']",
    ]);
  });

  it("this action's defaults reach the process as INPUT_* with the runner's name mangling", async () => {
    const j = job(`console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INPUT_')))))`, {
      inputs: { 'api-key': 'k', 'my input': 'v' },
    });
    const main = await j.main();
    const seen = JSON.parse(main.stdout) as Record<string, string>;
    expect(seen['INPUT_STALE-AFTER-HOURS']).toBe(j.definition.defaults['stale-after-hours']);
    expect(seen['INPUT_TIMEOUT-SECONDS']).toBe('60');
    expect(seen['INPUT_API-KEY']).toBe('k');
    expect(seen.INPUT_SCOPE).toBe(''); // no default: still passed, empty
    expect(seen.INPUT_MY_INPUT).toBe('v');
    expect(main.annotations).toEqual([{ level: 'warning', message: expect.stringMatching(/^Unexpected input\(s\) 'my input', valid inputs are \['api-key', /), properties: {} }]);
    expect(main.log[0]).toMatch(/^Warning: Unexpected input\(s\) 'my input'/);
  });
});

describe('workflow commands on stdout and stderr (ActionCommand.cs, ActionCommandManager.cs, OutputManager.cs)', () => {
  it('parses ::cmd k=v::data after leading white space only, and ##[cmd k=v]data anywhere', () => {
    expect(parseCommandV2('  ::warning file=a.ts,line=3::msg', registered)).toEqual({ name: 'warning', properties: { file: 'a.ts', line: '3' }, data: 'msg' });
    expect(parseCommandV2('x ::warning::msg', registered)).toBeUndefined();
    expect(parseCommandV2('::unknown::msg', registered)).toBeUndefined();
    expect(parseCommandLegacy('prefix ##[warning file=a;line=3]msg', registered)).toEqual({ name: 'warning', properties: { file: 'a', line: '3' }, data: 'msg' });
  });

  it('undoes %25 %0D %0A in data and also %3A %2C in properties, %25 last', () => {
    expect(parseCommandV2('::error title=a%3Ab%2Cc%0Ad::x%0Ay%250A', registered)).toEqual({ name: 'error', properties: { title: 'a:b,c\nd' }, data: 'x\ny%0A' });
  });

  it('a ##[stop-commands] in the middle of a line stops command processing until its token', async () => {
    const j = job(`
      console.log('before ::warning::not a command (not at line start)');
      console.log('text ##[stop-commands]pause-token-1234'); // the data runs to the end of the line
      console.log('::warning::ignored while stopped');
      console.log('::add-mask::not-masked-while-stopped');
      console.log('::pause-token-1234::');
      console.log('::warning::processed again');`);
    const main = await j.main();
    expect(main.annotations.map((a) => a.message)).toEqual(['processed again']);
    expect(main.commands.map((c) => c.name)).toEqual(['stop-commands', 'pause-token-1234', 'warning']);
    expect(main.log).toEqual([
      'before ::warning::not a command (not at line start)',
      'text ##[stop-commands]***', // the runner masks a stop token longer than 6 characters
      '::warning::ignored while stopped',
      '::add-mask::not-masked-while-stopped',
      '::***::',
      'Warning: processed again',
    ]);
  });

  it('a masked value is replaced in later lines of both streams, each line of a multi-line value too', async () => {
    const j = job(`
      console.log('early s3cr3t-value');
      console.log('::add-mask::s3cr3t-value');
      console.log('out s3cr3t-value');
      await new Promise((r) => setTimeout(r, 50));
      console.error('err s3cr3t-value');
      console.log('::add-mask::line-one%0Aline-two');
      await new Promise((r) => setTimeout(r, 50));
      console.error('err line-two');
      console.log('::warning title=t::warn s3cr3t-value');`);
    const main = await j.main();
    expect(main.log).toEqual(['early s3cr3t-value', 'out ***', 'err ***', 'err ***', 'Warning: warn ***']);
    expect(main.masks).toEqual(['s3cr3t-value', 'line-one\nline-two', 'line-one', 'line-two']);
    expect(main.annotations).toEqual([{ level: 'warning', message: 'warn ***', properties: { title: 't' } }]);
  });

  it('processes commands written to stderr too', async () => {
    const main = await job(`console.error('::error file=src/x.ts,line=2,col=1,endColumn=4::on stderr')`).main();
    expect(main.annotations).toEqual([{ level: 'error', message: 'on stderr', properties: { file: 'src/x.ts', line: '2', col: '1', endColumn: '4' } }]);
    expect(main.outcome).toBe('success'); // an ::error:: alone does not fail the step
  });

  it('shows ::debug:: only with step debug; records it either way', async () => {
    const body = `console.log('::debug::details'); console.log('::notice::n')`;
    const quiet = await job(body).main();
    expect(quiet.log).toEqual(['Notice: n']);
    expect(quiet.debug).toContain('details');
    const loud = await job(body, { stepDebug: true }).main();
    expect(loud.log).toEqual(['##[debug]details', 'Notice: n']);
  });

  it('runs the deprecated save-state/set-output with a warning; refuses set-env and fails the step', async () => {
    const main = await job(`console.log('::save-state name=a::1'); console.log('::set-output name=o::2')`).main();
    expect(main.state).toEqual({ a: '1' });
    expect(main.outputs).toEqual({ o: '2' });
    expect(main.annotations.map((a) => a.level)).toEqual(['warning', 'warning']);
    const setEnv = await job(`console.log('::set-env name=X::1')`).main();
    expect(setEnv.outcome).toBe('failure');
    expect(setEnv.exitCode).toBe(0);
    expect(setEnv.log[0]).toBe("Error: Unable to process command '::set-env name=X::1' successfully.");
  });
});

describe('file commands (FileCommandManager.cs)', () => {
  it('reads heredocs, refuses NODE_OPTIONS in GITHUB_ENV, fails the step on a malformed file', async () => {
    const j = job(`
      appendFileSync(process.env.GITHUB_OUTPUT, 'a=1=2\\nb<<EOF\\nx\\ny\\nEOF\\n');
      appendFileSync(process.env.GITHUB_ENV, 'NODE_OPTIONS=--inspect\\nFOO=bar\\n');
      appendFileSync(process.env.GITHUB_STATE, 'good=1\\nno equals sign\\nlater=2\\n');`);
    const main = await j.main();
    expect(main.outputs).toEqual({ a: '1=2', b: 'x\ny' });
    expect(main.state).toEqual({ good: '1' }); // pairs before the bad line are kept
    expect(main.outcome).toBe('failure');
    expect(main.annotations.map((a) => a.message)).toEqual([
      "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
      "Unable to process file command 'state' successfully.",
      "Invalid format 'no equals sign'",
    ]);
    const post = await j.post();
    expect(post.processEnv.FOO).toBe('bar');
    expect(post.processEnv.NODE_OPTIONS).toBeUndefined();
    expect(post.processEnv.STATE_good).toBe('1');
  });

  it('hands post the env in the runner order: job env < earlier GITHUB_ENV < step env < STATE_* < INPUT_* < GITHUB_*', async () => {
    const j = job(
      `if (!isPost) {
         appendFileSync(process.env.GITHUB_STATE, 'isPost=true\\nk=from-state\\n');
         appendFileSync(process.env.GITHUB_ENV, 'A=from-github-env\\nB=from-github-env\\nGITHUB_REPOSITORY=spoofed\\n');
       }`,
      { env: { A: 'job', B: 'job', C: 'job', STATE_other: 'from-job-env', STATE_k: 'job' }, stepEnv: { B: 'step' }, inputs: { 'api-key': 'x' } },
    );
    await j.main();
    const post = await j.post();
    expect(post.processEnv).toMatchObject({ A: 'from-github-env', B: 'step', C: 'job', STATE_k: 'from-state', STATE_other: 'from-job-env', GITHUB_REPOSITORY: 'octo-org/release-tools' });
    expect(post.processEnv['INPUT_API-KEY']).toBe('x');
  });
});

describe('GITHUB_PATH and the step summary (FileCommandManager.cs, Handler.cs)', () => {
  it('prepends GITHUB_PATH entries (last added first) for later steps, and masks the summary it uploads', async () => {
    const j = job(`if (!isPost) {
        console.log('::add-mask::summary-secret');
        appendFileSync(process.env.GITHUB_STATE, 'isPost=true\\n');
        appendFileSync(process.env.GITHUB_PATH, '/opt/a\\n/opt/b\\n');
        appendFileSync(process.env.GITHUB_STEP_SUMMARY, 'value summary-secret here\\n');
      }`);
    const main = await j.main();
    expect(main.summary).toBe('value summary-secret here\n'); // the file as written (leak scans read it)
    expect(main.summaryUploaded).toBe('value *** here\n');
    const post = await j.post();
    expect(post.processEnv.PATH!.startsWith('/opt/b:/opt/a:')).toBe(true);
  });
});

describe('post step (ActionManifestManager post-if, StepsRunner)', () => {
  it('a failed main still runs post (post-if defaults to always()); success() would skip it', async () => {
    const body = `if (!isPost) { appendFileSync(process.env.GITHUB_STATE, 'isPost=true\\n'); process.exitCode = 1; } else console.log('post ran');`;
    const j = job(body);
    expect((await j.main()).outcome).toBe('failure');
    const post = await j.post();
    expect(post.outcome).toBe('success');
    expect(post.log).toContain('post ran');
    const k = job(body, { postIf: 'success()' });
    await k.main();
    expect((await k.post()).outcome).toBe('skipped');
  });
});

describe('this action through the runner model (action.yml defaults applied)', () => {
  const tenant = useTenant();

  it('the README minimum (api-key, host, service-user-id) runs main and post with every default', async () => {
    const t = tenant.tenant;
    const j = tenant.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(j.inputs['timeout-seconds']).toBe('60'); // defaults are there, as on GitHub
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.annotations).toEqual([]);
    const token = main.outputs.token!;
    expect(await statusWith(t.emu, token)).toBe(200);
    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    expect(await statusWith(t.emu, token)).toBe(401);
  });
});
