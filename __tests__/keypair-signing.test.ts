/**
 * Issue 19, through the runner model against the emulator: a long-lived signer service user that the keypair is
 * assigned to, both of its factors made for the job, `keypair-alias` checked in main with exactly those factors; a
 * file's SHA-256 digest signed in a later step and verified with OpenSSL; refused after post. A user without the
 * keypair, and the `scope` user, fail before the build with what to fix, and post leaves nothing live.
 * (useTenant checks after each test that no secret leaked and RUNNER_TEMP holds nothing.)
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';
import { defaultCertificate } from '../emulator/software-trust.js';
import { opensslVerify, signDigest } from '../harness/later-step.js';
import type { RunnerJob, StepResult } from '../harness/runner.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

const signerInputs = (userId: string, more: Record<string, string> = {}) => ({
  'api-key': t.s.bootstrap.apiKey,
  host: t.emu.host,
  'service-user-id': userId,
  'client-certificate-for-job': 'true',
  'keypair-alias': KEYPAIR_ALIAS,
  ...more,
});

/** A service user with Software Trust's Signer role and no keypair assigned. */
const unassignedSigner = (name: string) =>
  t.emu.model.addUser({ friendly_name: name, applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] }] });

const errorLine = (r: StepResult) => r.log.find((l) => l.startsWith('Error:')) ?? '';

/** After post: no token of the user works, no certificate of it is enabled, and no request signed anything. */
function nothingLive(userId: string): void {
  expect(t.emu.model.liveTokens().filter((x) => x.user_id === userId && x.name.startsWith('gha_'))).toEqual([]);
  expect(t.emu.model.liveClientCerts().filter((c) => c.user_id === userId)).toEqual([]);
}

/** A build output in the job's workspace, its SHA-256, and the later step's two factors. */
function laterStep(j: RunnerJob, main: StepResult) {
  const file = join(j.workspace, 'app.tar.gz');
  writeFileSync(file, `build output of run ${Math.random()}`);
  const digest = createHash('sha256').update(readFileSync(file)).digest();
  const who = { apiKey: main.outputs.token!, tls: { pfx: readFileSync(main.outputs['job-certificate-file']!), passphrase: main.outputs['job-certificate-password']! } };
  return { file, digest, who };
}

describe('keypair-alias: the signer service user the keypair is assigned to', () => {
  it('main proves the keypair with both minted factors, outputs keypair-id; a later step signs a file digest that OpenSSL verifies; refused after post', async () => {
    const j = env.job(signerInputs(t.s.signer.id));
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.annotations).toEqual([]);
    expect(main.outputs['keypair-id']).toBe(t.s.keypair.id);
    const cert = defaultCertificate(t.s.keypair);
    expect(main.log).toContain(
      `Keypair check: keypair '${KEYPAIR_ALIAS}' (id ${t.s.keypair.id}) is listed for user ${t.s.signer.id}; may sign: is_signable_by_me: true; certificate: its default certificate '${cert.alias}' is ACTIVE, valid to ${cert.validTo.toISOString().slice(0, 10)}; checked with the job's token and client certificate on ${t.emu.clientAuthHost}.`,
    );
    // The check went to clientauth. with the minted token AND the job's certificate, after both were made.
    const seen = t.emu.requests.slice(before);
    const check = seen.filter((r) => r.path === '/signingmanager/api/v1/keypairs');
    const mintedId = t.emu.model.findBySecret(main.outputs.token!)!.id;
    expect(check).toEqual([expect.objectContaining({ method: 'GET', query: `?alias=${KEYPAIR_ALIAS}`, servername: 'clientauth.localhost', hadApiKey: true, tokenId: mintedId, clientCertUser: t.s.signer.id, status: 200 })]);
    expect(seen.findIndex((r) => r.path.endsWith('/client-auth-certificate'))).toBeLessThan(seen.indexOf(check[0]!));
    // Nothing was signed by the action itself.
    expect(seen.filter((r) => r.path.endsWith('/sign'))).toEqual([]);

    const { file, digest, who } = laterStep(j, main);
    const signed = await signDigest(t.emu, who, KEYPAIR_ALIAS, digest);
    expect(signed).toMatchObject({ status: 200, keypairId: main.outputs['keypair-id'] });
    expect(opensslVerify(signed.certificatePem!, signed.signature!, file)).toEqual({ ok: true, output: 'Verified OK' });
    // The certificate it verifies with is the keypair's, issued by the emulator's code-signing CA.
    expect(signed.certificatePem!.replace(/\s/g, '')).toBe(defaultCertificate(t.s.keypair).certPem.replace(/\s/g, ''));

    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    const after = await signDigest(t.emu, who, KEYPAIR_ALIAS, digest);
    expect(after.status).toBe(401);
    expect(await statusWith(t.emu, who.apiKey)).toBe(401);
    nothingLive(t.s.signer.id);
  });

  it('a keypair assigned to a team of the user: the check passes', async () => {
    const member = unassignedSigner('team-signer-for-job');
    const team = t.emu.softwareTrust.addTeam('release team', [member.id]);
    const kp = t.emu.softwareTrust.addKeypair({ alias: 'team-release-key', teams: [team.id] });
    const j = env.job(signerInputs(member.id, { 'keypair-alias': 'team-release-key' }));
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.outputs['keypair-id']).toBe(kp.id);
    await j.post();
    nothingLive(member.id);
  });

  it('a user without the keypair assigned: main fails naming the alias, the user and the fix; post revokes both factors and removes the file', async () => {
    const user = unassignedSigner('signer-without-keypair');
    const j = env.job(signerInputs(user.id));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    const error = errorLine(main);
    expect(error).toContain(`Keypair check for keypair-alias '${KEYPAIR_ALIAS}' as user ${user.id}`);
    expect(error).toContain(`Software Trust lists no keypair '${KEYPAIR_ALIAS}' that this user may use`);
    expect(error).toContain(`assign keypair '${KEYPAIR_ALIAS}' to user ${user.id}, or to a team the user is a member of`);
    expect(main.outputs['keypair-id']).toBeUndefined();
    expect(main.outputs.token).toBeUndefined();
    // Both factors existed when it failed.
    expect(t.emu.model.liveTokens().filter((x) => x.user_id === user.id)).toHaveLength(1);
    expect(t.emu.model.liveClientCerts().filter((c) => c.user_id === user.id)).toHaveLength(1);

    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    expect(post.log.some((l) => l.startsWith('Removed PKCS#12 file'))).toBe(true);
    expect(post.log.some((l) => l.startsWith('Disabled client authentication certificate'))).toBe(true);
    nothingLive(user.id);
  });

  it.each([
    ['REVOKED', [{ status: 'REVOKED' as const }]],
    ['EXPIRED', [{ status: 'EXPIRED' as const }]],
    ['REVOKED and EXPIRED', [{ alias: 'first-cert', status: 'EXPIRED' as const }, { alias: 'second-cert', status: 'REVOKED' as const, default: true }]],
  ])('a keypair whose certificates are %s: main fails naming the alias, the user and the reason with the fix; post leaves nothing alive', async (_what, certificates) => {
    const alias = `st-${Math.random().toString(36).slice(2, 8)}`;
    const kp = t.emu.softwareTrust.addKeypair({ alias, users: [t.s.signer.id], certificates });
    const j = env.job(signerInputs(t.s.signer.id, { 'keypair-alias': alias }));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    const error = errorLine(main);
    expect(error).toContain(`Keypair check for keypair-alias '${alias}' as user ${t.s.signer.id}`);
    const statuses = kp.certificates.map((c) => `'${c.alias}' ${c.status}`).join(', ');
    expect(error).toContain(`keypair '${alias}' (id ${kp.id}) has no ACTIVE certificate to sign with (${statuses})`);
    expect(error).toContain(`renew or re-issue its certificate in Software Trust`);
    expect(main.outputs['keypair-id']).toBeUndefined();
    expect(main.outputs.token).toBeUndefined();
    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    nothingLive(t.s.signer.id);
  });

  it('a keypair the user can see but may not sign with (a Lead it is not assigned to: is_signable_by_me false): main fails naming alias, user and reason; post leaves nothing alive', async () => {
    const lead = t.emu.model.addUser({
      friendly_name: 'lead-not-assigned',
      applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH', 'MANAGE_SM_KEYPAIR'] }],
    });
    const j = env.job(signerInputs(lead.id));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    const error = errorLine(main);
    expect(error).toContain(`Keypair check for keypair-alias '${KEYPAIR_ALIAS}' as user ${lead.id}`);
    expect(error).toContain(`Software Trust answers is_signable_by_me: false: the user can see keypair '${KEYPAIR_ALIAS}' (id ${t.s.keypair.id}) but may not sign with it (users: ${t.s.signer.id}; groups: none)`);
    expect(error).toContain(`assign keypair '${KEYPAIR_ALIAS}' to user ${lead.id}, or to a team the user is a member of`);
    await j.post();
    nothingLive(lead.id);
  });

  it('the default certificate REVOKED but another ACTIVE: passes, with a warning naming both', async () => {
    const kp = t.emu.softwareTrust.addKeypair({ alias: 'default-revoked', users: [t.s.signer.id], certificates: [{ alias: 'revoked-default', status: 'REVOKED', default: true }, { alias: 'renewed', status: 'ACTIVE', default: false }] });
    const j = env.job(signerInputs(t.s.signer.id, { 'keypair-alias': 'default-revoked' }));
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.outputs['keypair-id']).toBe(kp.id);
    expect(main.annotations.map((a) => a.message)).toEqual([
      expect.stringContaining("its default certificate 'revoked-default' is REVOKED, while 'renewed' is ACTIVE"),
    ]);
    await j.post();
    nothingLive(t.s.signer.id);
  });

  /** The listing's items rewritten: some recorded fields taken out, others set. */
  const rewrite = (drop: string[], set: Record<string, unknown> = {}) =>
    t.emu.fault({
      kind: 'rewrite',
      path: /\/signingmanager\/api\/v1\/keypairs$/,
      body: (b) => ({ ...(b as object), items: (b as { items: Record<string, unknown>[] }).items.map((k) => ({ ...Object.fromEntries(Object.entries(k).filter(([n]) => !drop.includes(n))), ...set })) }),
    });

  it('without is_signable_by_me, the assignment decides: listed in users passes; in neither users nor groups fails', async () => {
    rewrite(['is_signable_by_me']);
    const ok = env.job(signerInputs(t.s.signer.id));
    const m1 = await ok.main();
    expect(m1.outcome, m1.log.join('\n')).toBe('success');
    expect(m1.annotations).toEqual([]);
    expect(m1.log.some((l) => l.includes('may sign: assigned to the user (users)'))).toBe(true);
    await ok.post();

    rewrite(['is_signable_by_me'], { users: [{ id: 'someone-else', name: 'x', auth_type: 'BASIC' }], groups: [] });
    const no = env.job(signerInputs(t.s.signer.id));
    const m2 = await no.main();
    expect(m2.outcome).toBe('failure');
    expect(errorLine(m2)).toContain(`keypair '${KEYPAIR_ALIAS}' (id ${t.s.keypair.id}) is not assigned to the user nor to any group (users: someone-else; groups: none)`);
    await no.post();
    nothingLive(t.s.signer.id);
  });

  it('an answer with none of the fields the check reads passes with warnings that say exactly what it could not confirm', async () => {
    rewrite(['is_signable_by_me', 'users', 'groups', 'limit_by_users', 'certificates', 'number_of_active_certificates']);
    const j = env.job(signerInputs(t.s.signer.id));
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.outputs['keypair-id']).toBe(t.s.keypair.id);
    const lead = `Keypair check for keypair-alias '${KEYPAIR_ALIAS}' as user ${t.s.signer.id} (the job's token and client certificate, on ${t.emu.clientAuthHost}): could not confirm`;
    expect(main.annotations.map((a) => a.message)).toEqual([
      `${lead} that the user may sign with it (no is_signable_by_me; the answer has none of is_signable_by_me, users, groups); the check passes on the listing alone, and signing may still be refused.`,
      `${lead} that it has an ACTIVE certificate (the answer has neither certificates nor number_of_active_certificates); the check passes on the listing alone, and signing may still be refused.`,
    ]);
    expect(main.log.some((l) => l.includes('may sign: not confirmed; certificate: not confirmed'))).toBe(true);
    await j.post();
    nothingLive(t.s.signer.id);
  });

  it('Software Trust refuses the listing (403): the error names the alias, the user and the role it needs; post cleans up', async () => {
    t.emu.fault({ method: 'GET', path: /\/signingmanager\/api\/v1\/keypairs$/, kind: 'status', status: 403, body: { error: { status: 'access_denied', message: 'Permission denied' } } });
    const j = env.job(signerInputs(t.s.signer.id));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    const error = errorLine(main);
    expect(error).toContain(`Keypair check for keypair-alias '${KEYPAIR_ALIAS}' as user ${t.s.signer.id}`);
    expect(error).toContain('returned 403 (access_denied: Permission denied)');
    expect(error).toContain('needs a Software Trust role with View keypair and Sign');
    expect(error).not.toContain('bootstrap');
    await j.post();
    nothingLive(t.s.signer.id);
  });
});

describe('keypair-alias: refused before anything is created', () => {
  it.each([
    ['with scope: a user made for the job has no keypair', { scope: 'Software Trust: Signer', 'service-user-id': '' }, "Inputs 'scope' and 'keypair-alias': a service user made for the job has no keypair assigned"],
    ['without client-certificate-for-job', { 'client-certificate-for-job': 'false' }, "Input 'keypair-alias': needs client-certificate-for-job: true"],
    ['an alias outside the documented characters', { 'keypair-alias': 'release key;rm' }, "Input 'keypair-alias': expected a keypair alias as Software Trust shows it"],
  ])('%s', async (_what, more, message) => {
    const users = t.emu.model.users.size;
    const before = t.emu.requests.length;
    const j = env.job(signerInputs(t.s.signer.id, more));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(errorLine(main)).toContain(message);
    expect(t.emu.requests.length).toBe(before);
    expect(t.emu.model.users.size).toBe(users);
    const post = await j.post();
    expect(post.log).toContain('Nothing to revoke: the main step did not mint a token.');
  });

  it('preflight says the keypair check needs the job’s two factors and runs in main; with scope it fails the inputs check', async () => {
    const j = env.job(signerInputs(t.s.signer.id, { preflight: 'true' }));
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.log.some((l) => l.includes(`keypair-alias '${KEYPAIR_ALIAS}' is not checked here: the check needs the job's two factors`))).toBe(true);
    const k = env.job(signerInputs('', { preflight: 'true', scope: 'Software Trust: Signer' }));
    const refused = await k.main();
    expect(refused.outcome).toBe('failure');
    expect(refused.log.some((l) => l.includes("Inputs 'scope' and 'keypair-alias'"))).toBe(true);
  });
});
