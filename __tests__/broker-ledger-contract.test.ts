/**
 * The ledger's contract, the same tests on each backend: node:sqlite (embedded) and PostgreSQL (replicas). Each test
 * opens two ledgers on one store, as two broker replicas would, where what they share matters: a token id used once,
 * a lease claimed once, a rate bucket drained together, one sweeper's turn at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialRow, Ledger, LeaseOwner } from '../broker/ledger.js';
import { hasSqlite } from './support/broker.js';
import { adminUrl, freshDatabase, noteSkipped } from './support/postgres.js';

interface Backend {
  name: string;
  available: boolean;
  /** A new store; open() gives one more ledger on it (one more replica). */
  store(): Promise<{ open: () => Promise<Ledger>; drop: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    available: hasSqlite,
    async store() {
      const { SqliteLedger } = await import('../broker/ledger.js');
      const dir = mkdtempSync(join(tmpdir(), 'd1-ledger-'));
      return { open: async () => SqliteLedger.open(join(dir, 'ledger.sqlite')), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    available: adminUrl !== undefined,
    async store() {
      const { PgLedger } = await import('../broker/ledger-pg.js');
      const db = await freshDatabase('contract');
      return { open: () => PgLedger.open({ url: db.url }), drop: db.drop };
    },
  },
];
noteSkipped('__tests__/broker-ledger-contract.test.ts', 'the ledger contract on PostgreSQL');

const OWNER: LeaseOwner = { repository: 'octo/app', repositoryId: '42', runId: '7', runAttempt: '1', checkRunId: '9001', policy: 'release' };
const T0 = Date.UTC(2026, 11, 3, 12);
let n = 0;
const lease = (): string => `lease-${String(++n).padStart(12, '0')}-${Math.random().toString(36).slice(2, 8)}`;
const token = (over: Partial<{ kind: CredentialRow['kind']; name: string; userId: string; endDate: string }> = {}) => ({
  kind: 'api-token' as const,
  name: `gha_octo_app_${++n}`,
  userId: 'u-1',
  endDate: '2026-12-04',
  ...over,
});

describe.each(backends)('ledger contract: $name', (backend) => {
  let store: Awaited<ReturnType<Backend['store']>>;
  let a: Ledger;
  let b: Ledger;
  beforeAll(async () => {
    if (!backend.available) return;
    store = await backend.store();
    a = await store.open();
    b = await store.open();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await store?.drop();
  });
  const test = it.skipIf(!backend.available);

  test('a token id is used once, across replicas, also when both try at the same moment', async () => {
    const tries = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).firstUse('jti-race', 2_000_000_000)));
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect(await a.firstUse('jti-other', 2_000_000_000)).toBe(true);
    expect(await b.firstUse('jti-other', 2_000_000_000)).toBe(false);
  });

  test('prune forgets token ids past their expiry plus the skew, and only those', async () => {
    await a.firstUse('jti-old', 1000);
    await a.firstUse('jti-young', 1100);
    await b.prune(1100, 60);
    expect(await a.firstUse('jti-old', 1000)).toBe(true);
    expect(await a.firstUse('jti-young', 1100)).toBe(false);
  });

  test('a lease is claimed once across replicas and keeps its owner', async () => {
    const l = lease();
    const claims = await Promise.all([a.openLease(l, OWNER, T0), b.openLease(l, { ...OWNER, runId: '8' }, T0)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const owner = await b.leaseOwner(l);
    expect(owner).toMatchObject({ repository: 'octo/app', repositoryId: '42', runAttempt: '1', checkRunId: '9001', policy: 'release' });
    expect(['7', '8']).toContain(owner!.runId);
    expect(await a.leaseOwner('no-such-lease-000000')).toBeUndefined();
  });

  test('pending, settled, closed: what each replica sees, newest first, with numbers as numbers', async () => {
    const l = lease();
    await a.openLease(l, OWNER, T0);
    const s1 = await a.pending(l, token(), T0);
    const s2 = await b.pending(l, token({ kind: 'client-certificate' }), T0 + 1);
    const s3 = await a.pending(l, token(), T0 + 2);
    expect(s2).toBeGreaterThan(s1);
    await b.settle(s1, { id: 'tok-1', endDate: '2026-12-05' });
    await a.settle(s3, 'not-made');
    const open = await b.openOfLease(l);
    expect(open.map((r) => [r.seq, r.state])).toEqual([
      [s2, 'pending'],
      [s1, 'live'],
    ]);
    expect(open[1]).toEqual({
      seq: s1,
      lease: l,
      kind: 'api-token',
      id: 'tok-1',
      name: expect.stringMatching(/^gha_octo_app_/),
      userId: 'u-1',
      endDate: '2026-12-05',
      repository: 'octo/app',
      repositoryId: '42',
      runId: '7',
      runAttempt: '1',
      checkRunId: '9001',
      policy: 'release',
      createdAt: T0,
      state: 'live',
      revokedAt: null,
      revokedBy: null,
    });
    await a.closed(s1, 'revoked', 'job', T0 + 10);
    await b.closed(s2, 'gone', 'sweeper', T0 + 11, 'cert-9');
    expect(await a.openOfLease(l)).toEqual([]);
    const all = (await b.all()).filter((r) => r.lease === l);
    expect(all.map((r) => [r.state, r.revokedBy, r.revokedAt, r.id])).toEqual([
      ['revoked', 'job', T0 + 10, 'tok-1'],
      ['gone', 'sweeper', T0 + 11, 'cert-9'],
      ['not-made', null, null, ''],
    ]);
  });

  test('due: open rows past their end date or older than the maximum age, and no others', async () => {
    const l = lease();
    await a.openLease(l, OWNER, T0);
    const old = await a.pending(l, token({ endDate: '2026-12-10' }), T0 - 7 * 3600_000);
    const ended = await a.pending(l, token({ endDate: '2026-12-02' }), T0);
    const fresh = await a.pending(l, token({ endDate: '2026-12-10' }), T0);
    const closed = await a.pending(l, token({ endDate: '2026-12-01' }), T0);
    await a.closed(closed, 'revoked', 'job', T0);
    const due = (await b.due(T0, '2026-12-03', 6 * 3600_000)).filter((r) => r.lease === l).map((r) => r.seq);
    expect(due).toEqual([ended, old]);
    expect(due).not.toContain(fresh);
  });

  test('a rate bucket is one for every replica: the burst, then a wait that says how long, then the refill', async () => {
    const perMs = 60 / 60_000; // 60 a minute
    const takes = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).takeToken('repo:42', perMs, 5, T0)));
    expect(takes.filter((w) => w === 0)).toHaveLength(5);
    expect(takes.filter((w) => w > 0).every((w) => w > 0 && w <= 1000)).toBe(true);
    expect(await a.takeToken('repo:42', perMs, 5, T0 + 500)).toBe(500);
    expect(await b.takeToken('repo:42', perMs, 5, T0 + 1000)).toBe(0);
    expect(await a.takeToken('repo:43', perMs, 5, T0)).toBe(0); // another key, its own bucket
    // A replica whose clock is behind neither refills backwards nor gets more than there is.
    expect(await b.takeToken('repo:42', perMs, 5, T0 - 60_000)).toBeGreaterThan(0);
  });

  test('orphans: pending rows of a replica that stopped beating, past the create deadline; not a live one\'s, not settled ones', async () => {
    const l = lease();
    await a.openLease(l, OWNER, T0);
    const ofA = await a.pending(l, token(), T0);
    const ofALive = await a.pending(l, token(), T0);
    await a.settle(ofALive, { id: 'tok-live' });
    const ofB = await b.pending(l, token(), T0);
    await a.takeTurn(`replica:${a.replica}`, a.replica, T0, 30_000);
    await b.takeTurn(`replica:${b.replica}`, b.replica, T0, 30_000);
    expect(a.replica).not.toBe(b.replica);
    const mine = async (now: number, before: number) => (await b.orphans(now, before)).filter((r) => r.lease === l).map((r) => r.seq);
    expect(await mine(T0 + 10_000, T0 + 1)).toEqual([]); // both beat
    await b.takeTurn(`replica:${b.replica}`, b.replica, T0 + 40_000, 30_000); // b beats on; a has not since T0
    expect(await mine(T0 + 40_000, T0)).toEqual([]); // a's create may still be under way (deadline not passed)
    expect(await mine(T0 + 40_000, T0 + 1)).toEqual([ofA]);
    await a.closed(ofA, 'revoked', 'sweeper', T0 + 40_000);
    expect(await mine(T0 + 40_000, T0 + 1)).toEqual([]);
    expect(ofB).toBeGreaterThan(0);
  });

  test('a paced schedule: the burst at once, then one slot per interval each, across replicas; none past the wait allowed', async () => {
    const waits = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).bookSlot('dc', 100, 3, T0, 1000)));
    expect(waits.sort((x, y) => x! - y!)).toEqual([0, 0, 0, 100, 200, 300]);
    expect(await a.bookSlot('dc', 100, 3, T0, 350)).toBeUndefined(); // its slot would be 400 ms away
    expect(await b.bookSlot('dc', 100, 3, T0, Number.POSITIVE_INFINITY)).toBe(400);
    expect(await a.bookSlot('dc', 100, 3, T0 + 10_000, 0)).toBe(0); // a quiet spell: the burst again
  });

  test('a turn is one holder\'s until it expires or is released; then another takes it', async () => {
    expect(await a.takeTurn('sweeper', 'replica-a', T0, 10_000)).toBe(true);
    expect(await b.takeTurn('sweeper', 'replica-b', T0 + 1, 10_000)).toBe(false);
    expect(await a.takeTurn('sweeper', 'replica-a', T0 + 5000, 10_000)).toBe(true); // renewed to T0 + 15 s
    expect(await b.takeTurn('sweeper', 'replica-b', T0 + 12_000, 10_000)).toBe(false);
    expect(await b.takeTurn('sweeper', 'replica-b', T0 + 15_001, 10_000)).toBe(true); // a's expired: a died
    expect(await a.takeTurn('sweeper', 'replica-a', T0 + 15_002, 10_000)).toBe(false);
    await b.releaseTurn('sweeper', 'replica-b');
    expect(await a.takeTurn('sweeper', 'replica-a', T0 + 15_003, 10_000)).toBe(true);
    await a.ping();
  });
});

describe.skipIf(!adminUrl)('PostgreSQL ledger: schema and connection', () => {
  it('replicas starting together apply each migration once, and a later start applies none', async () => {
    const { PgLedger } = await import('../broker/ledger-pg.js');
    const { MIGRATIONS } = await import('../broker/ledger-pg-migrations.js');
    const db = await freshDatabase('migrate');
    const logs: string[] = [];
    try {
      const ledgers = await Promise.all(Array.from({ length: 4 }, () => PgLedger.open({ url: db.url, log: (l) => logs.push(l) })));
      expect(logs.filter((l) => l.includes('applied schema migration'))).toHaveLength(MIGRATIONS.length);
      const rows = (await ledgers[0]!.pool.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
      expect(rows).toEqual(MIGRATIONS.map((m) => m.version));
      const later = await PgLedger.open({ url: db.url, log: (l) => logs.push(l) });
      expect(logs.filter((l) => l.includes('applied schema migration'))).toHaveLength(MIGRATIONS.length);
      await Promise.all([...ledgers, later].map((l) => l.close()));
    } finally {
      await db.drop();
    }
  });

  it('a database that is not there: a clear error naming the host, never the password', async () => {
    const { PgLedger } = await import('../broker/ledger-pg.js');
    const port = new URL(adminUrl!).port;
    const err = await PgLedger.open({ url: `postgres://broker:s3cret-pw@127.0.0.1:1/ledger`, timeoutMs: 2000 }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^the ledger's PostgreSQL at 127\.0\.0\.1:1 is unreachable or refused: ECONNREFUSED/);
    expect((err as Error).message).not.toContain('s3cret-pw');
    const noDb = await PgLedger.open({ url: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/no_such_database`, timeoutMs: 2000 }).catch((e: unknown) => e as Error);
    expect((noDb as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} .*3D000 database "no_such_database" does not exist`));
    expect((noDb as Error).message).not.toContain('s3cret-pw');
  });

  it('TLS asked by the URL against a server without it: refused, named, not sent in clear', async () => {
    const { PgLedger } = await import('../broker/ledger-pg.js');
    const u = new URL(adminUrl!);
    u.searchParams.set('sslmode', 'require');
    const err = await PgLedger.open({ url: u.toString(), timeoutMs: 2000 }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^the ledger's PostgreSQL at 127\.0\.0\.1:\d+ is unreachable or refused: .*does not support SSL/);
  });
});
