/**
 * Broker replicas on one PostgreSQL ledger, for tests, the bench and `npm run broker:replicas`: a BrokerWorld (the
 * emulator, the stand-in issuer, the config files, and its own broker as replica 0) whose config names the database,
 * plus more brokers on the same config: in this process (on the world's clock) or as the bundle in child processes
 * (system clock; the ones a test can kill -9).
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { CredentialRow } from '../broker/ledger.js';
import type { Broker } from '../broker/server.js';
import { type Answer, BrokerWorld, newLease, spawnBroker, startBrokerHere, type WorldOptions } from './broker-world.js';

export interface Replica {
  url: string;
  broker?: Broker;
  child?: ChildProcess;
  stderr: string;
  exited?: Promise<number | null>;
}

export class BrokerReplicas {
  readonly replicas: Replica[] = [];
  private readonly agent: Agent;

  private constructor(
    readonly w: BrokerWorld,
    readonly databaseUrl: string,
  ) {
    this.agent = new Agent({ connect: { ca: w.pki.ca.certPem, timeout: 60_000 }, headersTimeout: 60_000, bodyTimeout: 60_000 });
  }

  /**
   * The world with `n` brokers on the database at `databaseUrl`. `o.process`: every replica is the bundle in a child
   * process; otherwise every one runs in this process, on `o.clock`.
   */
  static async start(databaseUrl: string, n: number, o: WorldOptions = {}): Promise<BrokerReplicas> {
    // The URL file outside the world's folder: it must exist before the world's own broker starts.
    const urlFile = join(BrokerWorld.scratch(), 'database.url');
    writeFileSync(urlFile, databaseUrl, { mode: 0o600 });
    const w = await BrokerWorld.start({ ...o, config: { ledger: { postgres: { urlFile } }, ...o.config } });
    const r = new BrokerReplicas(w, databaseUrl);
    r.replicas.push({ url: w.url, broker: w.broker, stderr: '' });
    for (let i = 1; i < n; i++) await r.add(o.process === true);
    return r;
  }

  /** One more broker on the same config and database. */
  async add(process: boolean): Promise<Replica> {
    const w = this.w;
    const r: Replica = { url: '', stderr: '' };
    if (process) {
      const { child, port } = await spawnBroker(w.configFile, (text) => void (r.stderr += text));
      Object.assign(r, { child, url: `https://localhost:${port}`, exited: new Promise((res) => child.once('exit', (code) => res(code))) });
    } else {
      r.broker = await startBrokerHere(w.configFile, w.auditFile, w.clock, (line) => void (r.stderr += `${line}\n`));
      r.url = r.broker.url;
    }
    this.replicas.push(r);
    return r;
  }

  async call(i: number, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<Answer> {
    const url = new URL(path, this.replicas[i]!.url);
    const res = await this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.statusCode, headers: res.headers, body: parsed };
  }

  mint(i: number, token: string, policy = 'release', lease = newLease()): Promise<Answer> {
    return this.call(i, 'POST', '/v1/credentials', token, { policy, lease, job: 'sign' });
  }

  /** Every credential row, read from the database as an operator would (a connection of its own). */
  async rows(): Promise<CredentialRow[]> {
    const { PgLedger } = await import('../broker/ledger-pg.js');
    const l = await PgLedger.open({ url: this.databaseUrl, replica: 'reader' });
    try {
      // The ledger keys a lease by repository id (`<repository_id>:<lease>`); tests name it as the job does.
      return (await l.all()).map((r) => ({ ...r, lease: r.lease.replace(/^\d+:/, '') }));
    } finally {
      await l.close();
    }
  }

  /** kill -9: no clean stop, no released turn. */
  async kill(i: number): Promise<void> {
    const r = this.replicas[i]!;
    if (!r.child) throw new Error('only a replica in a child process can be killed');
    r.child.kill('SIGKILL');
    await r.exited;
  }

  async close(): Promise<void> {
    for (const r of this.replicas.slice(1)) {
      if (r.child && r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGTERM');
        await r.exited;
      }
      await r.broker?.close();
    }
    await this.w.close();
    await this.agent.destroy();
  }
}
