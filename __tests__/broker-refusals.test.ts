/**
 * Every way a job's OIDC token or its claims can fail, one test each, against the broker in this process on a
 * virtual clock, the OIDC issuer stand-in (its own keys, JWKS over HTTPS) and the emulator. Each refusal asserts the
 * answer (status, code, the check named), that DigiCert ONE saw no request, that the ledger holds no credential for
 * it, and the audit line that recorded it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusWith } from '../harness/later-step.js';
import { GITHUB_ISSUER } from '../broker/id-token.js';
import { GENERIC_REFUSAL } from '../broker/server.js';
import { AUDIENCE, defaultPolicies, hasSqlite, newLease, startWorld, type Answer, type BrokerWorld } from './support/broker.js';

describe.skipIf(!hasSqlite)('broker refusals', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld();
  }, 60_000);
  afterAll(async () => w?.close());

  const now = (): number => Math.floor(w.clock.now() / 1000);

  /** Runs `act`, then checks it was refused as said, and that nothing reached DigiCert ONE or the ledger. */
  async function expectRefused(act: () => Promise<Answer>, status: number, code: string, message: string): Promise<Answer> {
    const emuBefore = w.emu.requests.length;
    const rowsBefore = w.ledgerRows().length;
    const auditBefore = w.audit().length;
    const a = await act();
    expect(a.status, JSON.stringify(a.body)).toBe(status);
    const error = a.body.error as { code: string; message: string };
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(w.emu.requests.length, 'DigiCert ONE was called').toBe(emuBefore);
    expect(w.ledgerRows().length, 'a credential was recorded').toBe(rowsBefore);
    const logged = w.audit().slice(auditBefore);
    expect(logged).toEqual([expect.objectContaining({ event: 'refused', status, code, reason: error.message })]);
    return a;
  }

  it('accepts a good token: the baseline the refusals below differ from by one thing each', async () => {
    const a = await w.mint(w.token());
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(await statusWith(w.emu, a.body.token as string)).toBe(200);
  });

  it('refuses a token for another audience (GitHub\'s default, the owner URL)', async () => {
    await expectRefused(() => w.mint(w.token({ aud: 'https://github.com/octo-org' })), 401, 'invalid_token', `aud does not name this broker (expected ${AUDIENCE}`);
  });

  it('refuses an expired token, past the skew; within the skew it is still accepted', async () => {
    await expectRefused(() => w.mint(w.token({ iat: now() - 600, exp: now() - 61 })), 401, 'invalid_token', 'the token expired at');
    expect((await w.mint(w.token({ iat: now() - 600, exp: now() - 30 }))).status).toBe(201);
  });

  it('refuses a token that expired while time passed (the broker reads its one clock)', async () => {
    const token = w.token();
    await w.clock.sleep(301_000 + 61_000);
    await expectRefused(() => w.mint(token), 401, 'invalid_token', 'the token expired at');
  });

  it('refuses a token not valid yet (nbf past the skew)', async () => {
    await expectRefused(() => w.mint(w.token({ nbf: now() + 120 })), 401, 'invalid_token', 'the token is not valid before');
  });

  it('refuses a token issued in the future (iat past the skew)', async () => {
    await expectRefused(() => w.mint(w.token({ iat: now() + 120, nbf: now() - 10, exp: now() + 600 })), 401, 'invalid_token', 'iat is in the future');
  });

  it('refuses another issuer, even signed with the trusted key', async () => {
    await expectRefused(() => w.mint(w.token({ iss: GITHUB_ISSUER })), 401, 'invalid_token', `iss is not the trusted issuer (expected ${w.issuer.issuer})`);
  });

  it('refuses alg none', async () => {
    await expectRefused(() => w.mint(w.token({}, { signWith: 'none' })), 401, 'invalid_token', 'alg none is not accepted (RS256 only)');
  });

  it('refuses HS256 keyed with the issuer\'s public key', async () => {
    await expectRefused(() => w.mint(w.token({}, { signWith: 'HS256-public-key' })), 401, 'invalid_token', 'alg HS256 is not accepted (RS256 only)');
  });

  it('refuses a key the JWKS does not hold, after one refetch, and does not refetch again within the cool-down', async () => {
    const fetches = w.issuer.jwksFetches;
    await expectRefused(() => w.mint(w.token({}, { signWith: 'unpublished-key' })), 401, 'invalid_token', "the signing key (kid not-in-the-jwks) is not in the issuer's JWKS");
    expect(w.issuer.jwksFetches).toBe(fetches + 1);
    await expectRefused(() => w.mint(w.token({}, { signWith: 'unpublished-key', header: { kid: 'another-unknown' } })), 401, 'invalid_token', 'is not in the issuer\'s JWKS');
    expect(w.issuer.jwksFetches, 'an unknown kid within the cool-down made the broker fetch again').toBe(fetches + 1);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [h, , sig] = w.token().split('.');
    const forged = Buffer.from(JSON.stringify({ ...w.claims(), iss: w.issuer.issuer, iat: now(), exp: now() + 300, jti: 'x' })).toString('base64url');
    await expectRefused(() => w.mint(`${h}.${forged}.${sig}`), 401, 'invalid_token', "the signature does not verify with the issuer's key");
  });

  it('follows a key rotation: a new kid makes it fetch the JWKS again', async () => {
    await w.clock.sleep(31_000); // past the refetch cool-down
    w.issuer.rotate(true);
    const fetches = w.issuer.jwksFetches;
    const a = await w.mint(w.token());
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(w.issuer.jwksFetches).toBe(fetches + 1);
  });

  it('refuses a replayed token: its jti was used (the first use minted once)', async () => {
    const token = w.token();
    const first = await w.mint(token);
    expect(first.status).toBe(201);
    const a = await expectRefused(() => w.mint(token), 401, 'replayed_token', 'its jti was used before');
    expect(a.body.error).not.toHaveProperty('claims');
    // Also across endpoints: a token spent on a mint cannot revoke.
    await expectRefused(() => w.call('POST', '/v1/revoke', token, { leases: [first.body.lease] }), 401, 'replayed_token', 'its jti was used before');
  });

  /** A refusal told in the one generic answer; the audit line keeps what differed. */
  async function expectGeneric(act: () => Promise<Answer>, detail: string): Promise<Answer> {
    const auditBefore = w.audit().length;
    const a = await expectRefused(act, 403, 'policy_refused', GENERIC_REFUSAL.message);
    expect(a.body).toEqual({ error: GENERIC_REFUSAL });
    expect(w.audit().slice(auditBefore)).toEqual([expect.objectContaining({ event: 'refused', detail: expect.stringContaining(detail) })]);
    return a;
  }

  it('tells another repository nothing of the policy (the generic answer); the audit log names the claims that differ', async () => {
    const a = await expectGeneric(
      () => w.mint(w.token({ repository: 'octo-org/other', repository_id: '555', sub: 'repo:octo-org/other:ref:refs/heads/main' })),
      "policy 'release' does not match this job: repository_id (expected 123456789, token has 555); repository (expected octo-org/release-tools, token has octo-org/other)",
    );
    for (const value of ['123456789', '987654', 'octo-org/release-tools', 'refs/tags/v*', 'workflow_dispatch', 'release.yml']) expect(JSON.stringify(a.body)).not.toContain(value);
  });

  it('a repository re-created under the same name (new repository_id) and an owner re-created under the same login get the generic answer', async () => {
    await expectGeneric(() => w.mint(w.token({ repository_id: '999000111' })), 'repository_id (expected 123456789, token has 999000111)');
    await expectGeneric(() => w.mint(w.token({ repository_owner_id: '1' })), 'repository_owner_id (expected 987654, token has 1)');
  });

  it('a stranger and an unknown policy name get byte-identical answers, on /v1/credentials and /v1/check alike', async () => {
    const raw = async (path: string, token: string, policy: string): Promise<[number, string]> => {
      const a = await w.callText('POST', path, token, { policy, lease: newLease(), job: 'sign' });
      return [a.status, a.text];
    };
    const stranger = { repository: 'mallory/probe', repository_id: '31337', repository_owner_id: '31338', repository_owner: 'mallory' };
    for (const path of ['/v1/credentials', '/v1/check']) {
      const answers = [
        await raw(path, w.token(stranger), 'release'),
        await raw(path, w.token(stranger), 'production'),
        await raw(path, w.token(stranger), 'no-such-policy'),
        await raw(path, w.token(), 'no-such-policy'),
      ];
      expect(new Set(answers.map((x) => JSON.stringify(x))).size, `${path}: ${JSON.stringify(answers)}`).toBe(1);
      expect(answers[0]![1]).not.toMatch(/release|production|no-such-policy|123456789|987654/);
    }
  });

  it('the policy\'s own repository is told what differs (another branch, another event, another workflow); an unknown name is not', async () => {
    await expectRefused(() => w.mint(w.token({ ref: 'refs/heads/feature' })), 403, 'policy_refused', 'ref (expected refs/heads/main or refs/tags/v*, token has refs/heads/feature)');
    await expectRefused(() => w.mint(w.token({ event_name: 'pull_request_target' })), 403, 'policy_refused', 'event_name (expected push or workflow_dispatch, token has pull_request_target)');
    await expectRefused(() => w.mint(w.token({ job_workflow_ref: 'octo-org/release-tools/.github/workflows/other.yml@refs/heads/main' })), 403, 'policy_refused', 'job_workflow_ref (expected octo-org/release-tools/.github/workflows/release.yml@refs/**');
    await expectGeneric(() => w.mint(w.token(), 'no-such-policy'), "this broker has no policy named 'no-such-policy'");
  });

  it('refuses a CSR under a policy that grants no client certificate', async () => {
    await expectRefused(
      () => w.mint(w.token({ environment: 'production' }), 'production', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' }),
      403,
      'policy_refused',
      "policy 'production' does not grant a client certificate",
    );
  });

  it('refuses a revoke with another run\'s token, or another attempt\'s; the run\'s own revokes it', async () => {
    const runId = '4242424242';
    const minted = await w.mint(w.token({ run_id: runId }));
    expect(minted.status).toBe(201);
    const lease = minted.body.lease as string;
    await expectRefused(() => w.call('POST', '/v1/revoke', w.token({ run_id: '4242424243' }), { leases: [lease] }), 403, 'lease_mismatch', "the token's run_id differ from the lease's");
    await expectRefused(() => w.call('POST', '/v1/revoke', w.token({ run_id: runId, run_attempt: '2' }), { leases: [lease] }), 403, 'lease_mismatch', "the token's run_attempt differ from the lease's");
    // Another repository's lease ids are its own (leases are scoped by repository id): this one is unknown to it.
    const other = await w.call('POST', '/v1/revoke', w.token({ run_id: runId, repository_id: '999000111' }), { leases: [lease] });
    expect(other.body).toEqual({ revoked: [], unknownLeases: [lease] });
    expect(await statusWith(w.emu, minted.body.token as string)).toBe(200);
    const own = await w.call('POST', '/v1/revoke', w.token({ run_id: runId }), { leases: [lease] });
    expect(own.status).toBe(200);
    expect(own.body.revoked).toEqual([{ kind: 'api-token', id: minted.body.tokenId, name: minted.body.tokenName, lease, outcome: 'revoked' }]);
    expect(await statusWith(w.emu, minted.body.token as string)).toBe(401);
  });

  it('refuses a request without a token, and a lease id used before', async () => {
    await expectRefused(() => w.call('POST', '/v1/credentials', undefined, { policy: 'release', lease: newLease() }), 401, 'invalid_token', 'send the job\'s GitHub OIDC token');
    const lease = newLease();
    expect((await w.call('POST', '/v1/credentials', w.token(), { policy: 'release', lease })).status).toBe(201);
    await expectRefused(() => w.call('POST', '/v1/credentials', w.token(), { policy: 'release', lease }), 409, 'lease_taken', 'this lease id was used before');
  });
});

describe.skipIf(!hasSqlite)('broker rate limit, per repository', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld({ config: { rateLimit: { perMinute: 6, burst: 2 } } });
  }, 60_000);
  afterAll(async () => w?.close());

  it('a repository past its burst waits (429 with Retry-After); another repository is not held up; time refills it', async () => {
    expect((await w.mint(w.token())).status).toBe(201);
    expect((await w.mint(w.token())).status).toBe(201);
    const before = w.emu.requests.length;
    const limited = await w.mint(w.token());
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('10');
    expect((limited.body.error as { code: string }).code).toBe('rate_limited');
    expect(w.emu.requests.length).toBe(before);
    // Another repository (trusted by a policy of its own) has its own bucket.
    const other = await w.call('POST', '/v1/check', w.token({ repository_id: '31337' }), { policy: 'release' });
    expect(other.status).toBe(200);
    await w.clock.sleep(10_000);
    expect((await w.mint(w.token())).status).toBe(201);
  });
});

describe.skipIf(!hasSqlite)('broker revocation, bound to the job', () => {
  let w: BrokerWorld;
  const stranger = { repository: 'mallory/probe', repository_id: '31337', repository_owner_id: '31338', repository_owner: 'mallory', sub: 'repo:mallory/probe:ref:refs/heads/main', run_id: '6161616161' };
  beforeAll(async () => {
    w = await startWorld({
      policies: (s) => [
        ...defaultPolicies(s),
        { name: 'mallory', match: { repository_id: stranger.repository_id, repository_owner_id: stranger.repository_owner_id, event_name: 'push' }, grant: { serviceUserId: s.signer.id } },
        { name: 'trial', mode: 'audit', match: { repository_id: '123456789', repository_owner_id: '987654', event_name: 'push', ref: 'refs/heads/never' }, grant: { serviceUserId: s.signer.id } },
      ],
    });
  }, 60_000);
  afterAll(async () => w?.close());

  it('lease ids are scoped by repository: another repository using a lease id first cannot squat it', async () => {
    const lease = newLease();
    expect((await w.mint(w.token(stranger), 'mallory', { lease })).status).toBe(201);
    const own = await w.mint(w.token(), 'release', { lease });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    // And the other repository's revoke of that id finds only its own lease.
    const theirs = await w.call('POST', '/v1/revoke', w.token({ ...stranger }), { leases: [lease] });
    expect(await statusWith(w.emu, own.body.token as string)).toBe(200);
    expect(theirs.status === 403 || (theirs.body.revoked as { name: string }[]).every((r) => r.name !== own.body.tokenName)).toBe(true);
  });

  it('a race: a lease another repository opens while a revoke is under way is not revoked by it', async () => {
    const first = await w.mint(w.token(stranger), 'mallory');
    expect(first.status).toBe(201);
    const lease = newLease();
    // The stranger's revoke names its own lease (slow to revoke) and one that does not exist yet.
    w.emu.fault({ method: 'DELETE', path: /api-access-token\//, kind: 'delay', ms: 800 });
    const before = w.emu.requests.length;
    const revoking = w.call('POST', '/v1/revoke', w.token(stranger), { leases: [first.body.lease, lease] });
    let settled = false;
    void revoking.finally(() => (settled = true));
    while (!settled && !w.emu.requests.slice(before).some((r) => r.method === 'DELETE')) await new Promise((r) => setTimeout(r, 5));
    // Meanwhile the policy's own repository mints under that lease id.
    const victim = await w.mint(w.token(), 'release', { lease });
    expect(victim.status, JSON.stringify(victim.body)).toBe(201);
    const revoked = await revoking;
    expect(revoked.status).toBe(200);
    expect((revoked.body.revoked as { name: string }[]).map((r) => r.name)).toEqual([first.body.tokenName]);
    expect(await statusWith(w.emu, victim.body.token as string)).toBe(200);
  });

  it('with check_run_id in the token, a sibling job of the same run attempt cannot revoke; the job itself can; the name and the audit line carry it', async () => {
    const run_id = '5151515151';
    const minted = await w.mint(w.token({ run_id, check_run_id: '700001' }));
    expect(minted.status).toBe(201);
    expect(minted.body.tokenName).toContain('700001');
    expect(w.audit().filter((e) => e.event === 'mint').at(-1)).toMatchObject({ claims: expect.objectContaining({ check_run_id: '700001' }) });
    const lease = minted.body.lease as string;
    const sibling = await w.call('POST', '/v1/revoke', w.token({ run_id, check_run_id: '700002' }), { leases: [lease] });
    expect(sibling.status, JSON.stringify(sibling.body)).toBe(403);
    expect((sibling.body.error as { message: string }).message).toContain('check_run_id');
    const noClaim = await w.call('POST', '/v1/revoke', w.token({ run_id }), { leases: [lease] });
    expect(noClaim.status, 'a token without check_run_id revoked a lease bound to a job').toBe(403);
    expect(await statusWith(w.emu, minted.body.token as string)).toBe(200);
    const own = await w.call('POST', '/v1/revoke', w.token({ run_id, check_run_id: '700001' }), { leases: [lease] });
    expect(own.body.revoked).toEqual([expect.objectContaining({ name: minted.body.tokenName, outcome: 'revoked' })]);
    expect(w.audit().filter((e) => e.event === 'revoke').at(-1)).toMatchObject({ claims: expect.objectContaining({ check_run_id: '700001' }) });
  });

  it('without check_run_id (GHES): any job of the same run attempt may revoke, as documented', async () => {
    const run_id = '5252525252';
    const minted = await w.mint(w.token({ run_id }));
    const other = await w.call('POST', '/v1/revoke', w.token({ run_id }), { leases: [minted.body.lease] });
    expect(other.body.revoked).toEqual([expect.objectContaining({ name: minted.body.tokenName, outcome: 'revoked' })]);
  });

  it('mode audit: a claim that differs is logged (wouldRefuse), not refused; the ids are enforced as always', async () => {
    const a = await w.mint(w.token(), 'trial');
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(w.audit().filter((e) => e.event === 'mint').at(-1)).toMatchObject({ outcome: 'granted', mode: 'audit', wouldRefuse: [{ claim: 'ref', expected: ['refs/heads/never'], actual: 'refs/heads/main' }] });
    const b = await w.mint(w.token(stranger), 'trial');
    expect(b.status).toBe(403);
    expect(b.body).toEqual({ error: GENERIC_REFUSAL });
  });
});
