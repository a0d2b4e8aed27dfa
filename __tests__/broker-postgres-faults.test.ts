/**
 * The broker against a PostgreSQL that fails: restarted under load (its own throw-away cluster, so no other test's
 * database restarts), and not there at all when a broker starts. Fail closed: no mint without its ledger row; the
 * job is told to try again (503 + Retry-After); service resumes without restarting the brokers; and at the end every
 * credential the emulator made is revoked or in the ledger.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerReplicas } from '../harness/broker-replicas.js';
import { projectRoot } from '../harness/runner.js';
import { hasSqlite } from './support/broker.js';
import { adminUrl, noteSkipped } from './support/postgres.js';

const run = Boolean(adminUrl) && hasSqlite;
noteSkipped('__tests__/broker-postgres-faults.test.ts', 'brokers against a failing PostgreSQL');
const SCRIPT = join(projectRoot(), 'scripts', 'pg-test-cluster.sh');
const env = { ...process.env, PG_TEST_CLUSTER: `faults-${process.pid}` };

describe.skipIf(!run)('brokers while PostgreSQL restarts', () => {
  let r: BrokerReplicas;
  beforeAll(async () => {
    const url = execFileSync(SCRIPT, ['start'], { env, encoding: 'utf8' }).trim();
    r = await BrokerReplicas.start(url, 2, { config: { timeoutSeconds: 5 } });
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    execFileSync(SCRIPT, ['stop'], { env });
  });

  it('mints are refused 503 + Retry-After while it is down, and served again after, by the same brokers', async () => {
    type Outcome = { at: number; status: number; code?: string; retryAfter?: string; lease?: string; runId: string };
    const outcomes: Outcome[] = [];
    let stop = false;
    const load = async (i: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const runId = String(7_000_000 + i * 100_000 + n);
        const a = await r.mint(i % 2, r.w.token({ run_id: runId })).catch(() => undefined);
        if (a) outcomes.push({ at: Date.now(), status: a.status, code: (a.body.error as { code?: string } | undefined)?.code, retryAfter: a.headers['retry-after'] as string | undefined, lease: a.body.lease as string | undefined, runId });
        await new Promise((res) => setTimeout(res, 25));
      }
    };
    const loaders = [0, 1, 2, 3].map(load);
    await new Promise((res) => setTimeout(res, 400));
    const down = Date.now();
    await promisify(execFile)(SCRIPT, ['restart', '2'], { env });
    const up = Date.now();
    const until = up + 15_000;
    while (!outcomes.some((o) => o.at > up && o.status === 201) && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 300));
    stop = true;
    await Promise.all(loaders);

    expect(outcomes.filter((o) => o.status !== 201 && o.status !== 503)).toEqual([]);
    const refused = outcomes.filter((o) => o.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.code === 'ledger_unavailable' && Number(o.retryAfter) > 0)).toBe(true);
    expect(refused.every((o) => o.at >= down)).toBe(true);
    expect(outcomes.filter((o) => o.at > up && o.status === 201).length).toBeGreaterThan(0);

    // The jobs' post steps revoke what they got; then nothing the emulator made is unaccounted for.
    for (const o of outcomes.filter((x) => x.status === 201)) {
      const v = await r.call(1, 'POST', '/v1/revoke', r.w.token({ run_id: o.runId }), { leases: [o.lease] });
      expect(v.status).toBe(200);
    }
    const rows = await r.rows();
    for (const t of [...r.w.emu.model.tokens.values()].filter((x) => x.name.startsWith('gha_'))) {
      const row = rows.find((x) => x.name === t.name);
      expect(t.deleted || row?.state === 'pending' || row?.state === 'live', `${t.name}: live, and not in the ledger`).toBe(true);
    }
  }, 60_000);
});

describe.skipIf(!run)('a broker whose PostgreSQL is not there', () => {
  it('exits at start with an error naming the host, never the password', async () => {
    const err = await BrokerReplicas.start('postgres://broker:pw-never-shown@127.0.0.1:1/ledger', 1, { process: true }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/exited \(1\).*the ledger's PostgreSQL at 127\.0\.0\.1:1 is unreachable or refused: ECONNREFUSED/s);
    expect((err as Error).message).not.toContain('pw-never-shown');
  }, 30_000);
});
