/**
 * Runs the bundled action the way the GitHub Actions runner does: INPUT_* variables, per-step GITHUB_OUTPUT /
 * GITHUB_STATE / GITHUB_ENV / GITHUB_STEP_SUMMARY files, STATE_* from main into post, env-file values into later
 * steps, and `::add-mask::` applied to what the log shows. Used by the end-to-end tests, the demo and the bench.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export const DIST_ENTRY = join(projectRoot(), 'dist', 'index.js');

export interface StepResult {
  phase: 'main' | 'post';
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What a user sees in the job log: masks applied, workflow commands rendered. */
  log: string[];
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
  summary: string;
  /** Raw bytes of the files the runner keeps, for leak scans. */
  files: { output: string; state: string; env: string; summary: string };
  /** Values registered with ::add-mask::, in order. */
  masks: string[];
  wallMs: number;
}

export interface JobOptions {
  inputs: Record<string, string>;
  /** Extra environment for every step (e.g. HTTPS_PROXY). */
  env?: Record<string, string>;
  /** PEM of a CA the action must trust (the emulator's), passed as NODE_EXTRA_CA_CERTS. */
  caPem?: string;
  entry?: string;
  node?: string;
  /** Arguments before the entry script, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/** Reads a runner file command file: `name=value` lines and `name<<DELIM` heredocs. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const body: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delim) body.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`unterminated heredoc for ${name}`);
      out[name!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`malformed file command line: ${line.slice(0, 40)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/**
 * Applies the runner's log processing to one step's stdout and stderr. `::debug::` lines are shown, as
 * `##[debug]<line>`, only with step debug logging on (actions/runner@258d6c857db3519913f7deb6004b60172f8043ae
 * src/Runner.Worker/ActionCommandManager.cs DebugCommandExtension -> ExecutionContext.cs Debug(), which writes
 * WellKnownTags.Debug per line when Global.WriteDebug, i.e. ACTIONS_STEP_DEBUG, is set; GitHub then sets
 * RUNNER_DEBUG=1 for the step, which is what the harness reads).
 */
export function renderLog(stdout: string, stderr: string, masks: string[], debug = false): string[] {
  const apply = (line: string): string => {
    let out = line;
    // Longest first, as the runner does, so a value containing another is hidden whole.
    for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) out = out.split(m).join('***');
    return out;
  };
  const log: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const cmd = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line);
    if (cmd) {
      const [, name, , data = ''] = cmd;
      if (name === 'add-mask') {
        const value = unescapeData(data);
        masks.push(value);
        for (const part of value.split(/\r?\n/)) if (part) masks.push(part);
        continue;
      }
      if (name === 'debug') {
        if (debug) for (const part of unescapeData(data).replace(/\r\n/g, '\n').split('\n')) log.push(apply(`##[debug]${part}`));
        continue;
      }
      const label = name === 'warning' ? 'Warning: ' : name === 'error' ? 'Error: ' : name === 'notice' ? 'Notice: ' : `${name}: `;
      log.push(apply(label + unescapeData(data)));
      continue;
    }
    log.push(apply(line));
  }
  for (const line of stderr.split('\n')) if (line) log.push(apply(line));
  return log;
}

export class RunnerJob {
  readonly dir: string;
  readonly runnerTemp: string;
  readonly steps: StepResult[] = [];
  private readonly masks: string[] = [];
  private state: Record<string, string> = {};
  private jobEnv: Record<string, string> = {};
  private readonly caFile: string | undefined;

  constructor(private readonly opts: JobOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'd1-job-'));
    this.runnerTemp = join(this.dir, 'runner-temp');
    mkdirSync(this.runnerTemp);
    if (opts.caPem) {
      this.caFile = join(this.dir, 'emulator-ca.pem');
      writeFileSync(this.caFile, opts.caPem);
    }
  }

  /** The step inputs, as the runner passes them to both steps. */
  get inputs(): Readonly<Record<string, string>> {
    return this.opts.inputs;
  }

  main(): Promise<StepResult> {
    return this.step('main');
  }

  post(): Promise<StepResult> {
    return this.step('post');
  }

  /** Files left in RUNNER_TEMP (the runner empties it only at the end of the job). */
  runnerTempFiles(): string[] {
    return readdirSync(this.runnerTemp, { recursive: true }).map(String);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async step(phase: 'main' | 'post'): Promise<StepResult> {
    const stepDir = join(this.dir, `${this.steps.length}-${phase}`);
    mkdirSync(stepDir);
    const files = { output: join(stepDir, 'output'), state: join(stepDir, 'state'), env: join(stepDir, 'env'), summary: join(stepDir, 'summary.md') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? this.dir,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_REPOSITORY: 'octo-org/release-tools',
      GITHUB_RUN_ID: '9876543210',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'sign',
      GITHUB_WORKFLOW: 'release',
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_ENV: files.env,
      GITHUB_STEP_SUMMARY: files.summary,
      RUNNER_TEMP: this.runnerTemp,
      ...(this.caFile ? { NODE_EXTRA_CA_CERTS: this.caFile } : {}),
      ...this.jobEnv,
      ...this.opts.env,
    };
    for (const [name, value] of Object.entries(this.opts.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    if (phase === 'post') for (const [k, v] of Object.entries(this.state)) env[`STATE_${k}`] = v;

    const started = performance.now();
    const { code, stdout, stderr } = await run(this.opts.node ?? process.execPath, [...(this.opts.nodeArgs ?? []), this.opts.entry ?? DIST_ENTRY], env, this.dir);
    const wallMs = performance.now() - started;

    const raw = {
      output: readFileSync(files.output, 'utf8'),
      state: readFileSync(files.state, 'utf8'),
      env: readFileSync(files.env, 'utf8'),
      summary: readFileSync(files.summary, 'utf8'),
    };
    const before = this.masks.length;
    const log = renderLog(stdout, stderr, this.masks, env.RUNNER_DEBUG === '1');
    const result: StepResult = {
      phase,
      exitCode: code,
      stdout,
      stderr,
      log,
      outputs: parseCommandFile(raw.output),
      state: parseCommandFile(raw.state),
      env: parseCommandFile(raw.env),
      summary: raw.summary,
      files: raw,
      masks: this.masks.slice(before),
      wallMs,
    };
    if (phase === 'main') this.state = result.state;
    Object.assign(this.jobEnv, result.env);
    this.steps.push(result);
    return result;
  }
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
