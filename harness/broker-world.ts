/**
 * A world for the broker (tests, `npm run demo -- --broker`, `npm run broker -- --emulator`): the emulator as DigiCert
 * ONE, the OIDC issuer stand-in, and the broker, either in this process on the clock given (tests: a virtual one) or
 * as its bundle in a child process on the system clock (what the Dockerfile runs). Keys, certificates and files are
 * made at run time in a temporary folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { Broker } from '../broker/server.js';
import { ROW, type CredentialRow } from '../broker/ledger.js';
import { toP12Base64 } from '../emulator/pki.js';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario, type Scenario } from '../emulator/scenario.js';
import { systemClock, type Clock } from '../src/platform/clock.js';
import { createHttpClient } from '../src/platform/http.js';
import { jobClaims, makeStandInPki, OidcIssuer, type Claims, type ForgeOptions, type StandInPki } from './oidc-issuer.js';
import { clockShiftEnv, projectRoot } from './runner.js';

/** The bundle the Dockerfile runs (checked by broker-docker.test.ts). */
export const BROKER_ENTRY = join(projectRoot(), 'dist', 'broker', 'index.js');
/** The node the bundle runs on here (npm scripts put Node 24 first on PATH). */
const NODE = process.execPath;

/** The github context of the runner model's default job (harness/runner.ts), which the default policy trusts. */
export const DEFAULT_JOB = {
  repository: 'octo-org/release-tools',
  repository_id: '123456789',
  repository_owner: 'octo-org',
  repository_owner_id: '987654',
  ref: 'refs/heads/main',
  ref_type: 'branch',
  event_name: 'push',
  workflow: 'release',
  workflow_ref: 'octo-org/release-tools/.github/workflows/release.yml@refs/heads/main',
  sha: '0123456789abcdef0123456789abcdef01234567',
  run_attempt: '1',
  run_number: '42',
  actor: 'octocat',
  actor_id: '583231',
};

export const AUDIENCE = 'https://d1-broker.test';

export function defaultPolicies(s: Scenario): unknown[] {
  const match = {
    repository_id: DEFAULT_JOB.repository_id,
    repository_owner_id: DEFAULT_JOB.repository_owner_id,
    repository: DEFAULT_JOB.repository,
    ref: ['refs/heads/main', 'refs/tags/v*'],
    event_name: ['push', 'workflow_dispatch'],
    job_workflow_ref: 'octo-org/release-tools/.github/workflows/release.yml@refs/**',
  };
  return [
    { name: 'release', match, grant: { serviceUserId: s.signer.id }, clientCertificate: true },
    // The name README.md and docs/broker.md use.
    { name: 'release-signing', match, grant: { serviceUserId: s.signer.id }, clientCertificate: true },
    { name: 'signing', match, grant: { scope: 'Software Trust: Signer' }, clientCertificate: true },
    { name: 'production', match: { ...match, environment: 'production' }, grant: { serviceUserId: s.signer.id } },
  ];
}

export interface WorldOptions {
  /** Run the bundle in a child process (system clock) instead of in this process (on `clock`). */
  process?: boolean;
  /** The one clock of the in-process broker, the issuer and the emulator's dates (default: the system's). */
  clock?: Clock;
  policies?: (s: Scenario) => unknown[];
  /** Fields of the broker's config file to add or replace. */
  config?: Record<string, unknown>;
  /** The broker's bootstrap credential: the seeded bootstrap user's API token (default), or its client certificate (PKCS#12 file). */
  bootstrap?: 'api-key' | 'client-certificate';
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export class BrokerWorld {
  emu!: D1Emulator;
  s!: Scenario;
  issuer!: OidcIssuer;
  readonly clock: Clock;
  readonly pki: StandInPki = makeStandInPki();
  readonly dir = mkdtempSync(join(tmpdir(), 'd1-broker-'));
  broker: Broker | undefined;
  private child: ChildProcess | undefined;
  /** What the broker process wrote on stderr (its operational log). */
  stderr = '';
  url = '';
  private readonly agent: Agent;

  private constructor(private readonly o: WorldOptions) {
    this.clock = o.process || !o.clock ? systemClock : o.clock;
    // 200 jobs at once open 200 TLS connections to a broker sharing this process: give them time on a loaded machine.
    this.agent = new Agent({ connect: { ca: this.pki.ca.certPem, timeout: 120_000 }, headersTimeout: 120_000, bodyTimeout: 120_000 });
  }

  /** A folder of its own, for files a world's config names before the world exists (removed with the machine's temp). */
  static scratch(): string {
    return mkdtempSync(join(tmpdir(), 'd1-broker-scratch-'));
  }

  static async start(o: WorldOptions = {}): Promise<BrokerWorld> {
    const w = new BrokerWorld(o);
    w.emu = await D1Emulator.start();
    w.s = seedScenario(w.emu);
    w.emu.model.clock = () => new Date(w.clock.now());
    w.issuer = await OidcIssuer.start({ clock: w.clock, pki: w.pki });
    w.writeFiles();
    await w.startBroker();
    return w;
  }

  get configFile(): string {
    return join(this.dir, 'broker.json');
  }

  get auditFile(): string {
    return join(this.dir, 'audit.jsonl');
  }

  get ledgerFile(): string {
    return join(this.dir, 'ledger.sqlite');
  }

  /** The CAs a job trusts: the broker's and the issuer's (one stand-in CA), and the emulator's. */
  get caPem(): string {
    return `${this.pki.ca.certPem}${this.emu.caPem}`;
  }

  private writeFiles(): void {
    const f = (name: string, text: string) => writeFileSync(join(this.dir, name), text, { mode: 0o600 });
    f('tls.crt', this.pki.server.certPem);
    f('tls.key', this.pki.server.keyPem);
    f('extra-ca.pem', this.caPem);
    f('bootstrap-api-key', this.s.bootstrap.apiKey);
    if (this.o.bootstrap === 'client-certificate') {
      const password = randomBytes(12).toString('hex');
      writeFileSync(join(this.dir, 'bootstrap.p12'), Buffer.from(toP12Base64(this.emu.issueClientCert(this.s.bootstrap.user.id), password), 'base64'), { mode: 0o600 });
      f('bootstrap.p12.password', password);
    }
    f('policy.json', JSON.stringify({ policies: (this.o.policies ?? defaultPolicies)(this.s) }, null, 2));
    f(
      'broker.json',
      JSON.stringify(
        {
          listen: { host: '127.0.0.1', port: 0 },
          tls: { certFile: 'tls.crt', keyFile: 'tls.key' },
          audience: AUDIENCE,
          issuer: this.issuer.issuer,
          digicertHost: this.emu.host,
          bootstrap: this.o.bootstrap === 'client-certificate' ? { clientCertificateFile: 'bootstrap.p12', passwordFile: 'bootstrap.p12.password' } : { apiKeyFile: 'bootstrap-api-key' },
          policyFile: 'policy.json',
          ledgerFile: 'ledger.sqlite',
          auditLog: 'audit.jsonl',
          extraCaFile: 'extra-ca.pem',
          maxAgeMinutes: 60,
          sweepIntervalSeconds: 0,
          rateLimit: { perMinute: 600, burst: 300 },
          ...this.o.config,
        },
        null,
        2,
      ),
    );
  }

  async startBroker(): Promise<void> {
    if (this.o.process) {
      const { child, port } = await spawnBroker(this.configFile, (text) => void (this.stderr += text));
      this.child = child;
      this.url = `https://localhost:${port}`;
      return;
    }
    this.broker = await startBrokerHere(this.configFile, this.auditFile, this.clock, (line) => void (this.stderr += `${line}\n`));
    this.url = this.broker.url;
  }

  async stopBroker(): Promise<void> {
    if (this.child) {
      const c = this.child;
      this.child = undefined;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    await this.broker?.close();
    this.broker = undefined;
  }

  /** Stops and starts the broker on the same port, ledger and files (jobs keep their broker-url). */
  async restart(): Promise<void> {
    const port = Number(new URL(this.url).port);
    await this.stopBroker();
    const config = JSON.parse(readFileSync(this.configFile, 'utf8')) as { listen: { port: number } };
    config.listen.port = port;
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
    await this.startBroker();
  }

  /** The decisions the broker logged, one object a line. */
  audit(): Record<string, unknown>[] {
    let text = '';
    try {
      text = readFileSync(this.auditFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  auditText(): string {
    try {
      return readFileSync(this.auditFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Every credential row of the ledger (opened read-only beside the broker, as an operator would). */
  ledgerRows(): CredentialRow[] {
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
    const db = new DatabaseSync(this.ledgerFile, { readOnly: true });
    try {
      // The ledger keys a lease by repository id (`<repository_id>:<lease>`); tests name it as the job does.
      return (db.prepare(`${ROW} ORDER BY c.seq`).all() as unknown as CredentialRow[]).map((r) => ({ ...r, lease: r.lease.replace(/^\d+:/, '') }));
    } finally {
      db.close();
    }
  }

  /** The claims of one job of the default repository; a fresh run id unless given. */
  claims(over: Claims = {}): Claims {
    return { ...jobClaims({ ...DEFAULT_JOB, run_id: String(1e9 + Math.floor(Math.random() * 1e9)) }), aud: AUDIENCE, ...over };
  }

  token(over: Claims = {}, forge?: ForgeOptions): string {
    return this.issuer.token(this.claims(over), forge);
  }

  async call(method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<Answer> {
    const a = await this.callText(method, path, token, body);
    return { status: a.status, headers: a.headers, body: a.text ? (JSON.parse(a.text) as Record<string, unknown>) : {} };
  }

  /** The answer as the bytes came (for comparing two answers exactly). */
  async callText(method: 'GET' | 'POST' | 'DELETE', path: string, token?: string, body?: unknown): Promise<{ status: number; headers: Answer['headers']; text: string }> {
    const url = new URL(path, this.url);
    const res = await this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  /** A job's exchange: its token for the policy's grant, with a new lease id. */
  mint(token: string, policy = 'release', more: Record<string, unknown> = {}): Promise<Answer> {
    return this.call('POST', '/v1/credentials', token, { policy, lease: newLease(), job: 'sign', ...more });
  }

  async close(): Promise<void> {
    await this.stopBroker();
    await this.issuer.close();
    await this.emu.close();
    await this.agent.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The bundle as a child process on `configFile` (the system clock, a clean environment): resolves with its port once
 * it says it listens; `onLog` gets everything it writes on stderr (its operational log).
 */
export async function spawnBroker(configFile: string, onLog: (text: string) => void): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NODE, [BROKER_ENTRY, '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  child.stderr!.setEncoding('utf8');
  let said = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (text: string) => {
      said += text;
      onLog(text);
      const m = / listening on [^:]+:(\d+)/.exec(said);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the broker exited (${code}): ${said}`)));
  });
  return { child, port };
}

/** The broker in this process, on `clock`, its audit lines appended to `auditFile`. */
export async function startBrokerHere(configFile: string, auditFile: string, clock: Clock, log: (line: string) => void): Promise<Broker> {
  // Loaded here, not on import: the broker's ledger needs node:sqlite, and Node 20 loads this module too.
  const { loadConfig } = await import('../broker/config.js');
  const { startBroker } = await import('../broker/server.js');
  const { appendFileSync } = await import('node:fs');
  const config = loadConfig(configFile, {}, new Date(clock.now()));
  return startBroker({ config, clock, createHttp: createHttpClient, audit: (line) => appendFileSync(auditFile, `${line}\n`), log });
}

/** A clean environment for the broker process (no secret of this one); Windows needs a few variables for sockets and temp. */
export function childEnv(): Record<string, string> {
  const keep = ['PATH', ...(process.platform === 'win32' ? ['SystemRoot', 'windir', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE'] : [])];
  // The clock shift too (CI's shifted-clock run): a broker on the real clock finds the issuer's certificate not yet valid.
  return { ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])), ...clockShiftEnv() };
}

export const newLease = (): string => randomBytes(16).toString('base64url');

/** node:sqlite is what the broker needs (Node >= 22.5): broker tests are skipped, cleanly, without it (Node 20). */
export const hasSqlite = typeof process.getBuiltinModule === 'function' && process.getBuiltinModule('node:sqlite') !== undefined;
