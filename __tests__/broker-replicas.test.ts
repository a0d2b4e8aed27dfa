/**
 * Broker replicas on one real PostgreSQL (the test cluster; a fresh database per describe): what they share holds
 * across them (a token id once, a lease once, a repository's rate, revocation by another replica than the one that
 * minted), one sweeps at a time and another takes over, and a replica killed -9 mid-mint leaves nothing live that no
 * job holds: its in-flight creates are revoked by the survivors' sweeper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerReplicas } from '../harness/broker-replicas.js';
import { statusWith } from '../harness/later-step.js';
import { hasSqlite } from './support/broker.js';
import { virtualClock } from './support/clock.js';
import { adminUrl, freshDatabase, noteSkipped } from './support/postgres.js';

const run = Boolean(adminUrl) && hasSqlite;
noteSkipped('__tests__/broker-replicas.test.ts', 'broker replicas on one PostgreSQL');

/** The broker-made tokens the emulator holds and has not deleted. */
const liveTokens = (r: BrokerReplicas) => [...r.w.emu.model.tokens.values()].filter((t) => !t.deleted && t.name.startsWith('gha_'));

describe.skipIf(!run)('broker replicas on one PostgreSQL (in this process, one virtual clock)', () => {
  let r: BrokerReplicas;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase('replicas');
    r = await BrokerReplicas.start(db.url, 2, { clock: virtualClock(new Date().toISOString()), config: { rateLimit: { perMinute: 6, burst: 4 } } });
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    await db?.drop();
  });

  it('a token used at one replica is a replay at the other; a lease taken at one is taken at the other', async () => {
    const token = r.w.token();
    const first = await r.mint(0, token);
    expect(first.status).toBe(201);
    const again = await r.mint(1, token);
    expect([again.status, (again.body.error as { code: string }).code]).toEqual([401, 'replayed_token']);
    const taken = await r.mint(1, r.w.token(), 'release', first.body.lease as string);
    expect([taken.status, (taken.body.error as { code: string }).code]).toEqual([409, 'lease_taken']);
    // The post step reaches the other replica: it revokes what the first one minted.
    const claims = { run_id: String((await r.rows()).find((x) => x.lease === first.body.lease)!.runId) };
    const revoked = await r.call(1, 'POST', '/v1/revoke', r.w.token(claims), { leases: [first.body.lease] });
    expect(revoked.body.revoked).toEqual([{ kind: 'api-token', id: first.body.tokenId, name: first.body.tokenName, lease: first.body.lease, outcome: 'revoked' }]);
    expect(await statusWith(r.w.emu, first.body.token as string)).toBe(401);
  });

  it('a revoke at one replica while the other still mints for the lease waits for it, then revokes what it made', async () => {
    r.w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 600 });
    const lease = 'lease-elsewhere-0000001';
    const claims = { run_id: '5150' };
    const minting = r.mint(0, r.w.token(claims), 'release', lease);
    while (!(await r.rows()).some((x) => x.lease === lease)) await new Promise((res) => setTimeout(res, 10));
    const revoke = await r.call(1, 'POST', '/v1/revoke', r.w.token(claims), { leases: [lease] });
    const minted = await minting;
    expect(minted.status).toBe(201);
    expect(revoke.body.revoked).toEqual([{ kind: 'api-token', id: minted.body.tokenId, name: minted.body.tokenName, lease, outcome: 'revoked' }]);
    expect(await statusWith(r.w.emu, minted.body.token as string)).toBe(401);
  });

  it('a repository\'s rate is one for the service, not one per replica; time refills it', async () => {
    await r.w.clock.sleep(60_000); // a full bucket
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await r.mint(i % 2, r.w.token()));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 429, 429]);
    expect(answers[5]!.headers['retry-after']).toBe('10');
    await r.w.clock.sleep(10_000);
    expect((await r.mint(1, r.w.token())).status).toBe(201);
  });

  it('one replica sweeps at a time; when it stops beating, another takes the turn and sweeps', async () => {
    await r.w.clock.sleep(60_000);
    const made = [await r.mint(0, r.w.token()), await r.mint(1, r.w.token())];
    expect(made.map((a) => a.status)).toEqual([201, 201]);
    await r.w.clock.sleep(61 * 60_000); // past maxAgeMinutes (60): every open row is due
    const deletes = () => r.w.emu.requests.filter((q) => q.method === 'DELETE').length;
    const before = deletes();
    const [a, b] = await Promise.all([r.replicas[0]!.broker!.sweep(), r.replicas[1]!.broker!.sweep()]);
    // Exactly one of the two swept; what it swept was revoked once each.
    expect([a.length > 0, b.length > 0].filter(Boolean)).toHaveLength(1);
    const swept = [...a, ...b];
    expect(swept.every((s) => s.outcome === 'revoked')).toBe(true);
    expect(deletes() - before).toBe(swept.length);
    for (const m of made) expect(await statusWith(r.w.emu, m.body.token as string)).toBe(401);
    const holder = a.length > 0 ? 0 : 1;
    const other = 1 - holder;
    // The holder keeps its turn while it renews it (as its own next sweep does); the other replica waits...
    const next = await r.mint(holder, r.w.token());
    await r.w.clock.sleep(61 * 60_000);
    const { PgLedger } = await import('../broker/ledger-pg.js');
    const id = r.replicas[holder]!.broker!.replica;
    const asHolder = await PgLedger.open({ url: db.url, replica: id });
    expect(await asHolder.takeTurn('sweeper', id, r.w.clock.now(), 30_000)).toBe(true);
    await asHolder.close();
    expect(await r.replicas[other]!.broker!.sweep()).toEqual([]);
    expect(await statusWith(r.w.emu, next.body.token as string)).toBe(200);
    // ...until the holder's turn has run out without a renewal (it died): 2·S + H, here 30 s past its last sweep.
    await r.w.clock.sleep(31_000);
    const taken = await r.replicas[other]!.broker!.sweep();
    expect(taken.map((s) => [s.row.name, s.outcome])).toContainEqual([next.body.tokenName, 'revoked']);
    expect(liveTokens(r)).toEqual([]);
  });
});

describe.skipIf(!run)('broker replicas in processes: kill -9 of one during mints', () => {
  let r: BrokerReplicas;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase('kill');
    r = await BrokerReplicas.start(db.url, 2, { process: true, config: { heartbeatSeconds: 1, sweepIntervalSeconds: 1, timeoutSeconds: 2 } });
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    await db?.drop();
  });

  it('the other replica keeps serving; the dead one\'s creates in flight are revoked by the sweeper, within seconds', async () => {
    // Every create waits 800 ms at DigiCert ONE, so replica 1 dies with its creates sent and unanswered.
    r.w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 800, times: 6 });
    const doomed = Array.from({ length: 3 }, () => r.mint(1, r.w.token()).catch((e: unknown) => e));
    const served = Array.from({ length: 3 }, () => r.mint(0, r.w.token()));
    const deadline = Date.now() + 10_000;
    while ((await r.rows()).filter((x) => x.state === 'pending').length < 6 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    await r.kill(1);
    const answers = await Promise.all(served);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    for (const d of await Promise.all(doomed)) expect(d).toBeInstanceOf(Error);
    // Within the bound (3 beats + the create deadline + a sweep interval + the sweeper's turn): nothing live but the jobs'.
    const jobs = new Set(answers.map((a) => a.body.tokenId as string));
    // Wait for both: a killed create may not have reached DigiCert ONE yet (no extra live token) while its row is still
    // pending, and the sweeper settles the row only once the dead replica's beats are old enough.
    const until = Date.now() + 20_000;
    const settled = async () => !liveTokens(r).some((t) => !jobs.has(t.id)) && !(await r.rows()).some((x) => x.state === 'pending');
    while (!(await settled()) && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
    expect(liveTokens(r).filter((t) => !jobs.has(t.id))).toEqual([]);
    const rows = await r.rows();
    expect(rows.filter((x) => x.state === 'pending')).toEqual([]);
    expect(rows.filter((x) => x.revokedBy === 'sweeper').length).toBe(3);
    // Every credential the emulator made is revoked, or in the ledger as live (the jobs' own, whose post steps revoke).
    for (const t of [...r.w.emu.model.tokens.values()].filter((x) => x.name.startsWith('gha_'))) {
      const row = rows.find((x) => x.id === t.id);
      expect(t.deleted || row?.state === 'live', `${t.name}: neither revoked nor in the ledger`).toBe(true);
    }
  }, 60_000);
});

describe.skipIf(!run)('one pace for DigiCert ONE across replicas (system clock)', () => {
  let r: BrokerReplicas;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase('pace');
    // A schedule of 5/s with a burst of 2 sends at most 7 in any second: 3 below the emulator's limit for the key, for
    // requests that arrive late on a loaded machine (the emulator counts per calendar second).
    r = await BrokerReplicas.start(db.url, 2, { config: { timeoutSeconds: 3, digicertPace: { perSecond: 5, burst: 2 } } });
    r.w.emu.rateLimitPerSecond = 10;
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    await db?.drop();
  });

  it('a crowd of mints at two replicas: DigiCert ONE refuses none; a job waits its turn or is told when to come back; every revocation goes through', async () => {
    const runIds = Array.from({ length: 30 }, (_, i) => String(9_100_000 + i));
    const answers = await Promise.all(runIds.map((run_id, i) => r.mint(i % 2, r.w.token({ run_id }))));
    const granted = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 503);
    expect(granted.length + busy.length).toBe(30);
    expect(granted.length).toBeGreaterThanOrEqual(10);
    for (const b of busy) {
      expect((b.body.error as { code: string }).code).toBe('digicert_busy');
      expect(Number(b.headers['retry-after'])).toBeGreaterThan(0);
    }
    const revoked = await Promise.all(granted.map((a, i) => r.call(i % 2, 'POST', '/v1/revoke', r.w.token({ run_id: runIds[answers.indexOf(a)]! }), { leases: [a.body.lease] })));
    expect(revoked.map((v) => (v.body.revoked as { outcome: string }[])?.[0]?.outcome)).toEqual(granted.map(() => 'revoked'));
    expect(r.w.emu.requests.filter((q) => q.status === 429)).toEqual([]);
    expect(liveTokens(r)).toEqual([]);
  }, 60_000);
});
