/**
 * The broker's ledger and sweeper, on a virtual clock: a credential is recorded before its create is sent; one whose
 * job never asked for its revocation is revoked once its run is over (max age, or its end date), also by a broker
 * started after a restart; a create whose answer was lost is found by name; and 200 jobs exchange at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusWith } from '../harness/later-step.js';
import { defaultPolicies, hasSqlite, newLease, startWorld, type BrokerWorld } from './support/broker.js';

const MINUTE = 60_000;

describe.skipIf(!hasSqlite)('broker ledger and sweeper', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld({ config: { maxAgeMinutes: 60 } });
  }, 60_000);
  afterAll(async () => w?.close());

  it('records the credential before the create reaches DigiCert ONE', async () => {
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 300 });
    const before = w.emu.requests.length;
    const pending = w.mint(w.token());
    while (w.emu.requests.length === before) await new Promise((r) => setTimeout(r, 5));
    const arrived = w.emu.requests[before]!;
    expect(`${arrived.method} ${arrived.path}`).toBe('POST /account/api/v1/api-access-token');
    // The create is in flight: the ledger already holds it, without an id yet.
    const rows = w.ledgerRows().filter((r) => r.state === 'pending');
    expect(rows).toEqual([expect.objectContaining({ kind: 'api-token', id: '', userId: w.s.signer.id })]);
    const a = await pending;
    expect(a.status).toBe(201);
    // Settled with the id of the token the create made, under the name the create carried.
    expect(w.ledgerRows().find((r) => r.seq === rows[0]!.seq)).toMatchObject({ state: 'live', id: a.body.tokenId, name: (arrived.body as { name: string }).name });
  });

  it('a revoke that arrives while its mint is still being made waits for it, then revokes what it made', async () => {
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 500 });
    const lease = newLease();
    const minting = w.call('POST', '/v1/credentials', w.token({ run_id: '8080' }), { policy: 'release', lease, job: 'sign' });
    while (!w.ledgerRows().some((r) => r.lease === lease)) await new Promise((r) => setTimeout(r, 5));
    const revoke = await w.call('POST', '/v1/revoke', w.token({ run_id: '8080' }), { leases: [lease] });
    const minted = await minting;
    expect(minted.status).toBe(201);
    expect(revoke.body.revoked).toEqual([{ kind: 'api-token', id: minted.body.tokenId, name: minted.body.tokenName, lease, outcome: 'revoked' }]);
    expect(await statusWith(w.emu, minted.body.token as string)).toBe(401);
  });

  it('a job whose post never ran: swept once the maximum age has passed, not before', async () => {
    const a = await w.mint(w.token());
    const token = a.body.token as string;
    await w.clock.sleep(59 * MINUTE);
    await w.broker!.sweep();
    expect(await statusWith(w.emu, token)).toBe(200);
    await w.clock.sleep(1 * MINUTE);
    const swept = await w.broker!.sweep();
    expect(swept.map((r) => [r.row.name, r.outcome])).toContainEqual([a.body.tokenName, 'revoked']);
    expect(await statusWith(w.emu, token)).toBe(401);
    expect(w.ledgerRows().find((r) => r.name === a.body.tokenName)).toMatchObject({ state: 'revoked', revokedBy: 'sweeper' });
    const line = w.audit().filter((e) => e.event === 'sweep').at(-1)!;
    expect(line.revoked).toContainEqual({ kind: 'api-token', id: a.body.tokenId, name: a.body.tokenName, lease: a.body.lease, outcome: 'revoked' });
    expect(JSON.stringify(w.audit())).not.toContain(token);
  });

  it('resumes after a restart: what the last process left is swept at start-up', async () => {
    const a = await w.mint(w.token());
    await w.stopBroker();
    await w.clock.sleep(61 * MINUTE);
    expect(await statusWith(w.emu, a.body.token as string)).toBe(200);
    await w.startBroker();
    const swept = await w.broker!.initialSweep;
    expect(swept.map((r) => [r.row.name, r.outcome])).toEqual([[a.body.tokenName, 'revoked']]);
    expect(await statusWith(w.emu, a.body.token as string)).toBe(401);
  });

  it('a create whose answer was lost, and could not be checked: left pending, then found by name and revoked by the sweeper', async () => {
    // The create is carried out but its answer is lost; DigiCert ONE then fails every listing the check needs.
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'drop-after-commit' });
    w.emu.fault({ method: 'GET', path: /api-access-token$/, kind: 'status', status: 500, times: 10_000 });
    const a = await w.mint(w.token());
    expect(a.status).toBe(502);
    expect((a.body.error as { message: string }).message).toContain('DigiCert ONE did not mint');
    const made = [...w.emu.model.tokens.values()].filter((t) => !t.deleted && t.name.startsWith('gha_') && w.ledgerRows().some((r) => r.name === t.name && r.state === 'pending'));
    expect(made).toHaveLength(1);
    expect(w.emu.model.tokenWorks(made[0]!)).toBe(true);
    w.emu.faults.length = 0;
    await w.clock.sleep(60 * MINUTE);
    const swept = await w.broker!.sweep();
    expect(swept.map((r) => [r.row.name, r.outcome])).toEqual([[made[0]!.name, 'revoked']]);
    expect(w.emu.model.tokenWorks(made[0]!)).toBe(false);
    expect(w.ledgerRows().find((r) => r.name === made[0]!.name)).toMatchObject({ state: 'revoked', id: made[0]!.id, revokedBy: 'sweeper' });
  });

  it('a key is certified once: a lost certificate answer fails the mint (no second create with the same CSR); every certificate made is a ledger row', async () => {
    const { makeJobCertificateRequest } = await import('../src/keys/job-certificate.js');
    const { csrPem } = await makeJobCertificateRequest('d1-token-action job');
    const certsBefore = new Set(w.emu.model.clientCerts.keys());
    const requestsBefore = w.emu.requests.length;
    w.emu.fault({ method: 'POST', path: /client-auth-certificate$/, kind: 'drop-after-commit' });
    const lease = newLease();
    const a = await w.mint(w.token(), 'release', { csr: csrPem, lease });
    expect(a.status, JSON.stringify(a.body)).toBe(502);
    expect((a.body.error as { message: string }).message).toContain('a fresh key');
    // DigiCert ONE was asked once for this CSR: at most one certificate certifies the job's key.
    const sent = w.emu.requests.slice(requestsBefore).filter((r) => r.method === 'POST' && r.path.endsWith('/client-auth-certificate'));
    expect(sent.map((r) => (r.body as { csr: string }).csr)).toEqual([csrPem]);
    const made = [...w.emu.model.clientCerts.entries()].filter(([fp]) => !certsBefore.has(fp)).map(([, c]) => c);
    expect(made).toHaveLength(1);
    // Nothing the ledger does not know: the certificate's nickname is its row's name.
    const row = w.ledgerRows().find((r) => r.kind === 'client-certificate' && r.name === made[0]!.name);
    expect(row, JSON.stringify(w.ledgerRows().filter((r) => r.kind === 'client-certificate'))).toBeDefined();
    expect(row!.lease).toBe(lease);
    // The token minted for it was revoked at once (the job starts over).
    const tokenRow = w.ledgerRows().find((r) => r.lease === row!.lease && r.kind === 'api-token');
    expect(tokenRow).toMatchObject({ state: 'revoked', revokedBy: 'job' });
  });

  it('200 jobs exchanging at once: 200 distinct credentials, all recorded, all revoked by their own jobs', async () => {
    const runs = Array.from({ length: 200 }, (_, i) => String(7_000_000_000 + i));
    const minted = await Promise.all(runs.map((run_id) => w.mint(w.token({ run_id }))));
    expect(minted.map((a) => a.status)).toEqual(runs.map(() => 201));
    const ids = new Set(minted.map((a) => a.body.tokenId));
    expect(ids.size).toBe(200);
    const rows = w.ledgerRows().filter((r) => ids.has(r.id));
    expect(rows.map((r) => r.state)).toEqual(runs.map(() => 'live'));
    expect(new Set(rows.map((r) => r.runId))).toEqual(new Set(runs));
    const revoked = await Promise.all(minted.map((a, i) => w.call('POST', '/v1/revoke', w.token({ run_id: runs[i]! }), { leases: [a.body.lease] })));
    expect(revoked.map((r) => r.status)).toEqual(runs.map(() => 200));
    expect([...w.emu.model.tokens.values()].filter((t) => ids.has(t.id) && w.emu.model.tokenWorks(t))).toEqual([]);
    expect(w.ledgerRows().filter((r) => ids.has(r.id)).map((r) => r.state)).toEqual(runs.map(() => 'revoked'));
  }, 180_000);
});

describe.skipIf(!hasSqlite)('broker sweeper: the end date', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    // A long maximum age, and a policy whose credentials end today: the end date decides.
    w = await startWorld({
      config: { maxAgeMinutes: 60 * 24 * 8 },
      policies: (s) => (defaultPolicies(s) as Record<string, unknown>[]).map((p) => ({ ...p, lifetimeDays: 0 })),
    });
  }, 60_000);
  afterAll(async () => w?.close());

  it('revokes a credential once its end date has passed', async () => {
    const a = await w.mint(w.token());
    expect(a.body.endDate).toBe(new Date(w.clock.now()).toISOString().slice(0, 10));
    await w.broker!.sweep();
    expect(w.ledgerRows().find((r) => r.name === a.body.tokenName)).toMatchObject({ state: 'live' });
    const nextDay = Date.parse(`${a.body.endDate as string}T23:59:59Z`) + 2000 - w.clock.now();
    await w.clock.sleep(nextDay);
    const swept = await w.broker!.sweep();
    expect(swept.map((r) => [r.row.name, r.outcome])).toEqual([[a.body.tokenName, expect.stringMatching(/^(revoked|gone)$/)]]);
    expect(w.ledgerRows().find((r) => r.name === a.body.tokenName)).toMatchObject({ revokedBy: 'sweeper' });
  });
});

describe.skipIf(!hasSqlite)('broker bootstrap by client certificate', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld({ bootstrap: 'client-certificate' });
  }, 60_000);
  afterAll(async () => w?.close());

  it('mints and revokes on the clientauth. name, the certificate in the handshake and no x-api-key', async () => {
    const before = w.emu.requests.length;
    const a = await w.mint(w.token({ run_id: '5150' }));
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    const revoke = await w.call('POST', '/v1/revoke', w.token({ run_id: '5150' }), { leases: [a.body.lease] });
    expect(revoke.body.revoked).toEqual([expect.objectContaining({ outcome: 'revoked' })]);
    const seen = w.emu.requests.slice(before).map((r) => `${r.method} ${r.path.replace(String(a.body.tokenId), '{id}')} ${r.status} ${r.servername} ${r.hadApiKey ? 'x-api-key' : 'no x-api-key'} ${r.clientCertUser}`);
    expect(seen).toEqual([
      `POST /account/api/v1/api-access-token 201 clientauth.localhost no x-api-key ${w.s.bootstrap.user.id}`,
      `DELETE /account/api/v1/api-access-token/{id} 204 clientauth.localhost no x-api-key ${w.s.bootstrap.user.id}`,
    ]);
    expect(await statusWith(w.emu, a.body.token as string)).toBe(401);
  });
});

describe.skipIf(!hasSqlite)('broker sweeper: each policy its own maximum age', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld({
      config: { maxAgeMinutes: 600 },
      policies: (s) => defaultPolicies(s).map((p) => ((p as { name: string }).name === 'signing' ? { ...(p as object), maxAgeMinutes: 15 } : p)),
    });
  }, 60_000);
  afterAll(async () => w?.close());

  it('a policy with maxAgeMinutes 15 is swept after 15 minutes; one without (default 60) after an hour, not the config\'s 600', async () => {
    const short = await w.mint(w.token(), 'signing');
    const long = await w.mint(w.token(), 'release');
    expect([short.status, long.status]).toEqual([201, 201]);
    await w.clock.sleep(14 * MINUTE);
    expect(await w.broker!.sweep()).toEqual([]);
    await w.clock.sleep(1 * MINUTE);
    expect((await w.broker!.sweep()).map((r) => [r.row.policy, r.outcome])).toEqual([['signing', 'revoked']]);
    expect(await statusWith(w.emu, long.body.token as string)).toBe(200);
    await w.clock.sleep(45 * MINUTE);
    expect((await w.broker!.sweep()).map((r) => [r.row.name, r.outcome])).toEqual([[long.body.tokenName, 'revoked']]);
  });
});

describe.skipIf(!hasSqlite)('broker ledger: a file made before leases carried check_run_id', () => {
  it('is migrated on open: the column is added, old leases read as made without it (the GHES rule)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { SqliteLedger } = await import('../broker/ledger.js');
    const dir = mkdtempSync(join(tmpdir(), 'd1-ledger-old-'));
    const file = join(dir, 'ledger.sqlite');
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE leases (lease TEXT PRIMARY KEY, repository TEXT NOT NULL, repository_id TEXT NOT NULL, run_id TEXT NOT NULL,
      run_attempt TEXT NOT NULL, policy TEXT NOT NULL, created_at INTEGER NOT NULL);
      INSERT INTO leases VALUES ('1:old-lease-0000000000', 'o/r', '1', '2', '1', 'release', 0);`);
    old.close();
    const ledger = SqliteLedger.open(file);
    try {
      expect(await ledger.leaseOwner('1:old-lease-0000000000')).toEqual({ repository: 'o/r', repositoryId: '1', runId: '2', runAttempt: '1', checkRunId: '', policy: 'release' });
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
