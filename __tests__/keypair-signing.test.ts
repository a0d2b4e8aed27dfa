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
    expect(main.log).toContain(
      `Keypair check: user ${t.s.signer.id} can use keypair '${KEYPAIR_ALIAS}' (id ${t.s.keypair.id}), with a certificate; checked with the job's token and client certificate on ${t.emu.clientAuthHost}.`,
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

  it('a keypair without a certificate fails the check; an answer without any certificate field passes with a note', async () => {
    const noCert = { kind: 'rewrite' as const, path: /\/signingmanager\/api\/v1\/keypairs$/ };
    t.emu.fault({ ...noCert, body: (b) => ({ ...(b as object), items: (b as { items: object[] }).items.map((k) => ({ ...k, default_certificate: null })) }) });
    const j = env.job(signerInputs(t.s.signer.id));
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(errorLine(main)).toContain(`keypair '${KEYPAIR_ALIAS}' (id ${t.s.keypair.id}) is assigned to the user but has no certificate to sign with`);
    await j.post();
    nothingLive(t.s.signer.id);

    t.emu.fault({ ...noCert, body: (b) => ({ ...(b as object), items: (b as { items: Record<string, unknown>[] }).items.map(({ default_certificate: _, ...k }) => k) }) });
    const k = env.job(signerInputs(t.s.signer.id));
    const ok = await k.main();
    expect(ok.outcome, ok.log.join('\n')).toBe('success');
    expect(ok.log.some((l) => l.includes('its certificate could not be confirmed from the answer'))).toBe(true);
    await k.post();
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
