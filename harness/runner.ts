/**
 * A model of the GitHub Actions runner running this action's main and post steps, written from the runner's source:
 * actions/runner v2.336.0, commit 258d6c857db3519913f7deb6004b60172f8043ae. See harness/README.md for each modelled
 * behaviour with its source file, and what is left out.
 *
 * Per step (ActionRunner.RunAsync → NodeScriptActionHandler.RunAsync → FileCommandManager.ProcessFiles):
 * inputs = `with:` + every action.yml default (action-definition.ts); environment = runner machine env, then the env
 * context (job `env:`, overridden by earlier steps' GITHUB_ENV, overridden by step `env:`), then STATE_* of main
 * (post only), then INPUT_*, then PATH with GITHUB_PATH prepended, then the github/runner contexts as GITHUB_* and
 * RUNNER_*; both output streams through one command manager (workflow-commands.ts); file commands after the step
 * (file-commands.ts); the step fails on a non-zero exit code or a command that could not be processed. Post runs
 * when `post-if` (default `always()`) holds, after a failed main too.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputEnvName, loadActionDefinition, resolveInputs, type ActionDefinition } from './action-definition.js';
import { FILE_COMMAND_DIR, FILE_COMMANDS, envFilePairs, processFileCommands, type FileCommandName } from './file-commands.js';
import { jobClaims, type Claims } from './oidc-issuer.js';
import { SecretMasker } from './secret-masker.js';
import { CommandProcessor, StepContext, type Annotation, type WorkflowCommand } from './workflow-commands.js';

export { parseCommandFile } from './file-commands.js';
export type { Annotation, WorkflowCommand } from './workflow-commands.js';

/** The project root: the harness runs from source (tests) and compiled under .build/ (demo, bench). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'action.yml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('action.yml not found above the harness');
    dir = up;
  }
  return dir;
}

/** The shared bundle both entries import (bench and size checks read it). */
export const DIST_BUNDLE = join(projectRoot(), 'dist', 'index.js');
export const ACTION_YML = join(projectRoot(), 'action.yml');

export type StepOutcome = 'success' | 'failure' | 'skipped';

export interface StepResult {
  phase: 'main' | 'post';
  /** The node process's exit code (0 when the step was skipped). */
  exitCode: number;
  /** failure: non-zero exit code, or a workflow/file command the runner could not process. */
  outcome: StepOutcome;
  stdout: string;
  stderr: string;
  /**
   * What a person sees in the job log: lines of both streams in arrival order, masks applied, commands consumed,
   * annotations as the web log shows them (`Error: …`, `Warning: …`, `Notice: …`), `##[debug]…` with step debug only.
   */
  log: string[];
  /** Outputs from GITHUB_OUTPUT (and the deprecated ::set-output::). */
  outputs: Record<string, string>;
  /** State this step saved (GITHUB_STATE and ::save-state::), which the post step receives as STATE_*. */
  state: Record<string, string>;
  /** Pairs this step wrote to GITHUB_ENV (as parsed, NODE_OPTIONS included; the job env gets them without it). */
  env: Record<string, string>;
  /** GITHUB_STEP_SUMMARY as the step wrote it. */
  summary: string;
  /** The summary as the runner uploads it (each line masked); '' when nothing is uploaded. */
  summaryUploaded: string;
  /** Raw bytes of the files the runner keeps, for leak scans. */
  files: { output: string; state: string; env: string; summary: string; path: string };
  /** Values this step registered with the masker (::add-mask:: and each of its lines, long stop tokens), in order, once each. */
  masks: string[];
  /** Annotations the run would show (10 per level at most, as the runner keeps). */
  annotations: Annotation[];
  /** Every workflow command the runner processed, in order. */
  commands: WorkflowCommand[];
  /** ::debug:: and the runner's debug lines, masked, whether or not step debug shows them. */
  debug: string[];
  /** The environment the step's process got. */
  processEnv: Record<string, string>;
  wallMs: number;
}

export interface JobOptions {
  /** The step's `with:` (values as the runner passes them, after expressions). Defaults of action.yml are added. */
  inputs: Record<string, string>;
  /** The job's `env:` (the runner's env context): e.g. HTTPS_PROXY, DC_BASE. */
  env?: Record<string, string>;
  /** The step's own `env:`; it overrides the job env and earlier steps' GITHUB_ENV. */
  stepEnv?: Record<string, string>;
  /**
   * PEM of a CA the action must trust (the emulator's). The action trusts only Node's roots and its
   * tls-ca-certificates input (never NODE_EXTRA_CA_CERTS, which any earlier step can set), so the model hands it over
   * as that input, as a workflow behind a TLS-inspecting proxy would, unless the workflow set the input itself.
   */
  caPem?: string;
  /** One script for both steps, in place of action.yml's runs.main and runs.post (unit tests of the model, benches). */
  entry?: string;
  node?: string;
  /** Arguments before the entry script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** action.yml to read inputs and post-if from (default: this project's). */
  actionYml?: string;
  /** Overrides runs.post-if of action.yml. */
  postIf?: string;
  /** Values the runner masks from the start of the job (the workflow's `secrets.*` it references). */
  secrets?: string[];
  /** ACTIONS_STEP_DEBUG: show ::debug:: lines and echo commands. */
  stepDebug?: boolean;
  /** A runner that has no job summary (older GHES): GITHUB_STEP_SUMMARY is not set. */
  withoutStepSummary?: boolean;
  /** github context values (repository, run_id, …); each becomes GITHUB_<NAME>. */
  github?: Record<string, string>;
  /**
   * The job's `permissions:`. With `id-token: write` the service hands the runner a GenerateIdTokenUrl, and the runner
   * sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN for each node step; without it neither exists.
   */
  permissions?: Partial<Record<'id-token' | 'contents', 'read' | 'write' | 'none'>>;
  /** What answers ACTIONS_ID_TOKEN_REQUEST_URL (GitHub's token service; harness/oidc-issuer.ts). Needed with id-token: write. */
  idTokenService?: IdTokenService;
  /** The job's `environment:` name (it becomes the OIDC token's `environment` claim and its `sub`). */
  environment?: string;
}

/** GitHub's ID-token service as the runner sees it: a URL and bearer token for one job's claims. */
export interface IdTokenService {
  registerJob(claims: Claims): { url: string; token: string };
}

/** Applies the runner's command processing and masking to one step's stdout, then stderr (for unit tests). */
export function renderLog(stdout: string, stderr: string, masks: string[]): string[] {
  const masker = new SecretMasker();
  for (const m of masks) masker.add(m);
  const before = masker.registered().length;
  const ctx = new StepContext(masker, false, {});
  const commands = new CommandProcessor(ctx);
  for (const text of [stdout, stderr]) for (const line of splitLines(text)) commands.line(line);
  masks.push(...masker.registered().slice(before));
  return ctx.log;
}

const CA_INPUT = 'tls-ca-certificates';

/**
 * libfaketime's variables: CI runs the suite on a shifted clock, and every process a harness starts (the steps, the
 * broker) must run on it too, or a certificate made "now" by the test process is not yet valid in the child.
 */
const FAKETIME_VARS = ['LD_PRELOAD', 'FAKETIME', 'FAKETIME_NO_CACHE', 'FAKETIME_DONT_RESET', 'DONT_FAKE_MONOTONIC'];

/** The clock shift of this process (libfaketime's variables that are set), for a child started with a clean environment. */
export function clockShiftEnv(): Record<string, string> {
  return pick(process.env, FAKETIME_VARS);
}

/** .NET StreamReader.ReadLine: a line ends at LF, CR or CRLF; a final line without terminator still counts. */
function pick(from: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) if (from[n] !== undefined) out[n] = from[n]!;
  return out;
}

function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (/[\r\n]$/.test(text)) lines.pop();
  return lines;
}

const evaluateCondition = (condition: string, jobFailed: boolean): boolean => {
  const c = condition.replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  switch (c) {
    case 'always()':
      return true;
    case 'success()':
      return !jobFailed;
    case 'failure()':
      return jobFailed;
    case 'cancelled()':
      return false;
    case '!cancelled()':
      return true;
    default:
      throw new Error(`post-if '${condition}' is not modelled (supported: always(), success(), failure(), cancelled(), !cancelled())`);
  }
};

export class RunnerJob {
  readonly dir: string;
  readonly runnerTemp: string;
  readonly workspace: string;
  readonly steps: StepResult[] = [];
  readonly definition: ActionDefinition;
  /** Warnings ActionRunner prints before each stage (unexpected / deprecated inputs). */
  readonly inputWarnings: string[];
  /** HostContext.SecretMasker: one for the whole job. */
  private readonly masker = new SecretMasker();
  private readonly resolved: Record<string, string>;
  /** IntraActionState of main, handed to post (RegisterPostJobStep → CreatePostChild). */
  private intraActionState: Record<string, string> = {};
  /** Global.EnvironmentVariables: the job env, then GITHUB_ENV of each finished step. */
  private readonly globalEnv: Record<string, string>;
  private readonly prependPath: string[] = [];
  /** The job's ID-token endpoint, with id-token: write (one per job: the system connection's, shared by its steps). */
  private idToken: { url: string; token: string } | undefined;

  constructor(private readonly opts: JobOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'd1-job-'));
    this.runnerTemp = join(this.dir, 'runner-temp');
    this.workspace = join(this.dir, 'workspace');
    mkdirSync(this.runnerTemp);
    mkdirSync(this.workspace);
    this.definition = loadActionDefinition(opts.actionYml ?? ACTION_YML);
    const withCa = opts.caPem && this.definition.inputNames.includes(CA_INPUT) && !opts.inputs[CA_INPUT] ? { ...opts.inputs, [CA_INPUT]: opts.caPem } : opts.inputs;
    const r = resolveInputs(this.definition, withCa);
    this.resolved = r.inputs;
    this.inputWarnings = r.warnings;
    this.globalEnv = { ...(opts.env ?? {}) };
    for (const s of opts.secrets ?? []) this.masker.add(s);
    if (opts.permissions?.['id-token'] === 'write') {
      if (!opts.idTokenService) throw new Error('permissions id-token: write needs an idTokenService to answer ACTIONS_ID_TOKEN_REQUEST_URL');
      this.idToken = opts.idTokenService.registerJob(jobClaims(this.githubContext(), opts.environment));
      // Worker.InitializeSecretMasker masks the job's endpoint authorization parameters (the AccessToken among them).
      this.masker.add(this.idToken.token);
    }
  }

  /** The step's inputs as the runner passes them to both steps: `with:` values, then action.yml defaults. */
  get inputs(): Readonly<Record<string, string>> {
    return this.resolved;
  }

  /** The job's status as success()/failure() see it. */
  get failed(): boolean {
    return this.steps.some((s) => s.outcome === 'failure');
  }

  main(): Promise<StepResult> {
    return this.step('main');
  }

  /** Runs the post step when post-if holds (always() by default, so also after a failed main); else a skipped result. */
  post(): Promise<StepResult> {
    const condition = this.opts.postIf ?? this.definition.postIf;
    if (!evaluateCondition(condition, this.failed)) return Promise.resolve(this.skipped('post'));
    return this.step('post');
  }

  /**
   * A step between this action's steps (or before them) wrote these lines to GITHUB_ENV: they join the env context of
   * every later step (FileCommandManager's SetEnvFileCommand; NODE_OPTIONS aside, which the runner refuses).
   */
  writeGithubEnv(pairs: Record<string, string>): void {
    for (const [k, v] of Object.entries(pairs)) if (k !== 'NODE_OPTIONS') this.globalEnv[k] = v;
  }

  /** Files the action left in RUNNER_TEMP (the runner's own file-command files excluded; it empties RUNNER_TEMP only at job end). */
  runnerTempFiles(): string[] {
    return readdirSync(this.runnerTemp, { recursive: true })
      .map(String)
      .filter((f) => f !== FILE_COMMAND_DIR && !f.startsWith(`${FILE_COMMAND_DIR}/`));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private skipped(phase: 'main' | 'post'): StepResult {
    const result: StepResult = {
      phase, exitCode: 0, outcome: 'skipped', stdout: '', stderr: '', log: [], outputs: {}, state: {}, env: {}, summary: '', summaryUploaded: '',
      files: { output: '', state: '', env: '', summary: '', path: '' }, masks: [], annotations: [], commands: [], debug: [], processEnv: {}, wallMs: 0,
    };
    this.steps.push(result);
    return result;
  }

  private githubContext(files?: Record<FileCommandName, string>): Record<string, string> {
    const g: Record<string, string> = {
      action: '__self',
      action_path: projectRoot(),
      action_ref: '',
      action_repository: '',
      actor: 'octocat',
      actor_id: '583231',
      api_url: 'https://api.github.com',
      event_name: 'push',
      event_path: join(this.dir, 'event.json'),
      graphql_url: 'https://api.github.com/graphql',
      job: 'sign',
      ref: 'refs/heads/main',
      ref_name: 'main',
      ref_type: 'branch',
      repository: 'octo-org/release-tools',
      repository_id: '123456789',
      repository_owner: 'octo-org',
      repository_owner_id: '987654',
      retention_days: '90',
      run_attempt: '1',
      run_id: '9876543210',
      run_number: '42',
      server_url: 'https://github.com',
      sha: '0123456789abcdef0123456789abcdef01234567',
      triggering_actor: 'octocat',
      workflow: 'release',
      workflow_ref: 'octo-org/release-tools/.github/workflows/release.yml@refs/heads/main',
      workflow_sha: '0123456789abcdef0123456789abcdef01234567',
      workspace: this.workspace,
      ...this.opts.github,
    };
    if (files) for (const fc of FILE_COMMANDS) g[fc.context] = files[fc.context];
    // Runners without the job summary file command (older GHES, some self-hosted set-ups, local runners) set no GITHUB_STEP_SUMMARY.
    if (this.opts.withoutStepSummary) delete g.step_summary;
    return g;
  }

  private async step(phase: 'main' | 'post'): Promise<StepResult> {
    // FileCommandManager.InitializeFiles: fresh empty files named <prefix><guid> under RUNNER_TEMP/_runner_file_commands.
    const fcDir = join(this.runnerTemp, FILE_COMMAND_DIR);
    mkdirSync(fcDir, { recursive: true });
    const suffix = randomUUID();
    const paths = Object.fromEntries(FILE_COMMANDS.map((fc) => [fc.context, join(fcDir, fc.prefix + suffix)])) as Record<FileCommandName, string>;
    for (const p of Object.values(paths)) writeFileSync(p, '');
    writeFileSync(join(this.dir, 'event.json'), '{}');

    // ActionRunner.RunAsync prints its input warnings in every stage it runs (main and post).
    const preLog = new StepContext(this.masker, this.opts.stepDebug ?? false, {});
    for (const w of this.inputWarnings) preLog.issue('warning', w);

    // 1. The runner machine's environment (the child inherits it). 2. The env context. 3. STATE_*. 4. INPUT_*.
    const envContext: Record<string, string> = { ...this.globalEnv, ...(this.opts.stepEnv ?? {}) };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? this.dir,
      // A Windows process needs these to start sockets and find its temp and profile folders; the real runner
      // passes the whole machine environment, so a step there always has them.
      ...(process.platform === 'win32' ? pick(process.env, ['SystemRoot', 'windir', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE']) : {}),
      // The machine's clock shift (libfaketime in CI's shifted-clock run) reaches the step as it reaches every process.
      ...clockShiftEnv(),
      ...envContext,
    };
    if (phase === 'post') for (const [k, v] of Object.entries(this.intraActionState)) env[`STATE_${k}`] = v ?? '';
    for (const [name, value] of Object.entries(this.resolved)) env[inputEnvName(name)] = value ?? '';
    // 5. AddPrependPathToEnvironment: GITHUB_PATH entries, last added first, before the step's PATH.
    if (this.prependPath.length > 0) env.PATH = [...this.prependPath].reverse().join(':') + (env.PATH ? `:${env.PATH}` : '');
    // 6. Contexts exposed as environment (GitHubContext/RunnerContext.GetRuntimeEnvironmentVariables) win over the env context.
    for (const [k, v] of Object.entries(this.githubContext(paths))) env[`GITHUB_${k.toUpperCase()}`] = v;
    const runnerCtx: Record<string, string> = {
      os: 'Linux', arch: 'X64', name: 'GitHub Actions 2', environment: 'github-hosted', temp: this.runnerTemp, tool_cache: join(this.dir, 'toolcache'),
      workspace: this.dir, ...(this.opts.stepDebug ? { debug: '1' } : {}),
    };
    for (const [k, v] of Object.entries(runnerCtx)) env[`RUNNER_${k.toUpperCase()}`] = v;
    // 7. NodeScriptActionHandler.RunAsync: the ID-token variables, only when the system connection has a GenerateIdTokenUrl.
    if (this.idToken) {
      env.ACTIONS_ID_TOKEN_REQUEST_URL = this.idToken.url;
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = this.idToken.token;
    }
    env.GITHUB_ACTIONS = 'true';
    env.CI = 'true';
    delete env.NODE_ICU_DATA; // NodeScriptActionHandler: https://github.com/actions/runner/issues/795

    const ctx = new StepContext(this.masker, this.opts.stepDebug ?? false, envContext);
    ctx.log.push(...preLog.log);
    ctx.annotations.push(...preLog.annotations);
    const commands = new CommandProcessor(ctx);

    const started = performance.now();
    // HandlerFactory/NodeScriptActionHandler: the file action.yml names for this stage (runs.main or runs.post).
    const script = this.opts.entry ?? join(dirname(this.opts.actionYml ?? ACTION_YML), phase === 'main' ? this.definition.main : (this.definition.post ?? ''));
    const { code, stdout, stderr } = await run(this.opts.node ?? process.execPath, [...(this.opts.nodeArgs ?? []), script], env, this.workspace, (line) => commands.line(line));
    const wallMs = performance.now() - started;

    const raw = {
      output: readFileSync(paths.output, 'utf8'),
      state: readFileSync(paths.state, 'utf8'),
      env: readFileSync(paths.env, 'utf8'),
      summary: readFileSync(paths.step_summary, 'utf8'),
      path: readFileSync(paths.path, 'utf8'),
    };
    const fx = processFileCommands(ctx, paths);
    const lenient = (text: string): Record<string, string> => {
      const out: Record<string, string> = {};
      try {
        for (const [k, v] of envFilePairs(text)) out[k] = v;
      } catch {
        // the runner has already reported it; keep the pairs before the bad line
      }
      return out;
    };
    const result: StepResult = {
      phase,
      exitCode: code,
      outcome: code !== 0 || ctx.commandFailed ? 'failure' : 'success',
      stdout,
      stderr,
      log: ctx.log,
      outputs: { ...ctx.legacyOutputs, ...fx.outputs },
      state: { ...ctx.state, ...fx.state },
      env: lenient(raw.env),
      summary: raw.summary,
      summaryUploaded: fx.summary,
      files: raw,
      masks: [...new Set(ctx.masked)],
      annotations: ctx.annotations,
      commands: ctx.commands,
      debug: ctx.debug,
      processEnv: env,
      wallMs,
    };
    // Only main's state reaches post; post's own state goes nowhere.
    if (phase === 'main') this.intraActionState = result.state;
    Object.assign(this.globalEnv, fx.env);
    for (const p of fx.path) {
      const i = this.prependPath.indexOf(p);
      if (i >= 0) this.prependPath.splice(i, 1);
      this.prependPath.push(p);
    }
    this.steps.push(result);
    return result;
  }
}

/** Runs the step's process, handing each line of either stream to `onLine` in the order the lines arrive. */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  onLine: (line: string) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const pending = { out: '', err: '' };
    const feed = (which: 'out' | 'err', chunk: string): void => {
      let text = pending[which] + chunk;
      // A line is complete at LF, or at CR not followed by the end of the chunk (it may be CRLF).
      for (let m = /\r\n|\n|\r(?=[^\n])/.exec(text); m; m = /\r\n|\n|\r(?=[^\n])/.exec(text)) {
        onLine(text.slice(0, m.index));
        text = text.slice(m.index + m[0].length);
      }
      pending[which] = text;
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out.push(Buffer.from(s));
      feed('out', s);
    });
    child.stderr.on('data', (s: string) => {
      err.push(Buffer.from(s));
      feed('err', s);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      for (const which of ['out', 'err'] as const) {
        const rest = pending[which];
        if (rest) for (const line of rest.split(/\r\n|\r|\n/).filter((l, i, a) => l !== '' || i < a.length - 1)) onLine(line);
      }
      resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
