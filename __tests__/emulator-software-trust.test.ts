/**
 * The emulator's Software Trust (emulator/software-trust.ts), over real HTTPS and mutual TLS: keypairs are listed,
 * read and used for signing only by users they are assigned to (directly or through a team), signing needs both
 * factors of one active user, and a signature is real (it verifies with the keypair's certificate, by node:crypto and
 * by the OpenSSL command line over the file whose digest was signed).
 */
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';
import { NOT_MFA, certificatePublicKey, defaultCertificate } from '../emulator/software-trust.js';
import { opensslVerify, signDigest, softwareTrustCall, type SoftwareTrustCaller } from '../harness/later-step.js';
import { startTenant, type Tenant } from './support/emulator.js';

let t: Tenant;
let dir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  t = await startTenant();
  dir = mkdtempSync(join(tmpdir(), 'st-test-'));
});
afterAll(async () => {
  await t.emu.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Both factors of a user, made as Account Manager would: a token and a registered client certificate. */
function factorsOf(userId: string): SoftwareTrustCaller & { certId: string; tokenId: string } {
  const token = t.emu.model.addToken(userId, `st test ${Math.random()}`, undefined);
  const pair = t.emu.issueClientCert(userId);
  const cert = [...t.emu.model.clientCerts.values()].at(-1)!;
  return { apiKey: token.secret, tls: { cert: pair.certPem, key: pair.keyPem }, certId: cert.id, tokenId: token.id };
}

/** A service user with Software Trust's Signer role (roles.ts SSM_SIGNER) and nothing assigned. */
const signerRole = (name: string) =>
  t.emu.model.addUser({ friendly_name: name, applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH'] }] });

const digest = createHash('sha256').update('release artifact').digest();
/** As jsign sends it: `account` is the object GET keypairs/{id} answered with. */
const accountOf = (id: string) => ({ id, name: 'Main account', cert_central_integration_allowed: false, dynamic_test_keypair_allowed: false, gpg_enabled: false, is_csr_gen_enabled: false });
const signBody = () => ({ account: accountOf(t.s.keypair.account), sig_alg: 'SHA256withRSA', hash: digest.toString('base64') });
const signPath = () => `/keypairs/${t.s.keypair.id}/sign`;

describe('Software Trust keypairs: assigned to users and teams', () => {
  it('the assigned signer lists its keypair by alias, reads it and its certificate (jsign shapes), and signs; the signature verifies', async () => {
    const me = factorsOf(t.s.signer.id);
    const listed = await softwareTrustCall(t.emu, me, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`);
    expect(listed).toMatchObject({ status: 200, body: { total: 1, items: [{ id: t.s.keypair.id, alias: KEYPAIR_ALIAS, key_alg: 'RSA', account: { id: 'acct-main' } }] } });
    const read = await softwareTrustCall(t.emu, me, 'GET', `/keypairs/${t.s.keypair.id}`);
    const cert = defaultCertificate(t.s.keypair);
    expect(read).toMatchObject({ status: 200, body: { key_alg: 'RSA', account: { id: 'acct-main' }, certificates: [{ id: cert.id, default_cert: true, certificate_status: 'ACTIVE' }] } });
    const certs = await softwareTrustCall(t.emu, me, 'GET', `/certificates?alias=${cert.alias}`);
    expect(certs).toMatchObject({ status: 200, body: { items: [{ id: cert.id, keypair: { id: t.s.keypair.id }, chain: [{ blob: expect.any(String) }] }] } });

    // jsign's request: account sent back as the object read.
    const signed = await softwareTrustCall(t.emu, me, 'POST', signPath(), { ...signBody(), account: (read as { body: { account: unknown } }).body.account });
    expect(signed).toMatchObject({ status: 200, body: { signature: expect.any(String) } });
    const signature = Buffer.from((signed as { body: { signature: string } }).body.signature, 'base64');
    // The signature over the digest is SHA256withRSA of the message itself.
    expect(verify('sha256', Buffer.from('release artifact'), certificatePublicKey(t.s.keypair), signature)).toBe(true);
    expect(verify('sha256', Buffer.from('another artifact'), certificatePublicKey(t.s.keypair), signature)).toBe(false);
  });

  it('signDigest (what a later step does) signs a file digest that `openssl dgst -verify` accepts with the certificate', async () => {
    const file = join(dir, 'app.tar.gz');
    writeFileSync(file, 'pretend this is a build output');
    const fileDigest = createHash('sha256').update('pretend this is a build output').digest();
    const r = await signDigest(t.emu, factorsOf(t.s.signer.id), KEYPAIR_ALIAS, fileDigest);
    expect(r.status).toBe(200);
    expect(opensslVerify(r.certificatePem!, r.signature!, file)).toEqual({ ok: true, output: 'Verified OK' });
    writeFileSync(file, 'tampered');
    expect(opensslVerify(r.certificatePem!, r.signature!, file)).toMatchObject({ ok: false, output: expect.stringContaining('Verification failure') });
  });

  it('a Signer without the keypair assigned: not listed, not readable (absent), and refused when it signs', async () => {
    const other = signerRole('unassigned-signer-1');
    const f = factorsOf(other.id);
    expect(await softwareTrustCall(t.emu, f, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`)).toMatchObject({ status: 200, body: { total: 0, items: [] } });
    expect(await softwareTrustCall(t.emu, f, 'GET', '/certificates')).toMatchObject({ status: 200, body: { items: [] } });
    const absent = { status: 404, body: { error: { status: 'invalid_input_field', message: `Keypair not present for given keypairId ${t.s.keypair.id}. Please provide correct keypairId.` } } };
    expect(await softwareTrustCall(t.emu, f, 'GET', `/keypairs/${t.s.keypair.id}`)).toEqual(absent);
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toEqual(absent);
  });

  it('Manage keypair (Lead) sees every keypair of its account, but signs only with one assigned to it', async () => {
    const lead = t.emu.model.addUser({ friendly_name: 'st-lead', applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH', 'MANAGE_SM_KEYPAIR'] }] });
    const f = factorsOf(lead.id);
    expect(await softwareTrustCall(t.emu, f, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`)).toMatchObject({ status: 200, body: { total: 1 } });
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 403, body: { error: { message: expect.stringContaining('is not assigned to user') } } });
  });

  it('a keypair assigned to a team: its members list it and sign; a non-member does not', async () => {
    const member = signerRole('team-member-signer');
    const outsider = signerRole('not-in-team-signer');
    const team = t.emu.softwareTrust.addTeam('release engineers', [member.id]);
    const kp = t.emu.softwareTrust.addKeypair({ alias: 'team-key', teams: [team.id] });
    const body = { account: accountOf(kp.account), sig_alg: 'SHA256withRSA', hash: digest.toString('base64') };
    const m = factorsOf(member.id);
    expect(await softwareTrustCall(t.emu, m, 'GET', '/keypairs?alias=team-key')).toMatchObject({ status: 200, body: { items: [{ id: kp.id }] } });
    const signed = await softwareTrustCall(t.emu, m, 'POST', `/keypairs/${kp.id}/sign`, body);
    expect(signed).toMatchObject({ status: 200 });
    expect(verify('sha256', Buffer.from('release artifact'), certificatePublicKey(kp), Buffer.from((signed as { body: { signature: string } }).body.signature, 'base64'))).toBe(true);
    const o = factorsOf(outsider.id);
    expect(await softwareTrustCall(t.emu, o, 'GET', '/keypairs?alias=team-key')).toMatchObject({ status: 200, body: { items: [] } });
    expect((await softwareTrustCall(t.emu, o, 'POST', `/keypairs/${kp.id}/sign`, body)) as { status: number }).toMatchObject({ status: 404 });
    // Leaving the team ends the access.
    team.members.delete(member.id);
    expect(await softwareTrustCall(t.emu, m, 'POST', `/keypairs/${kp.id}/sign`, body)).toMatchObject({ status: 404 });
  });

  it('a malformed sign request: another account, an account id string, unknown sig_alg, a hash of the wrong length: 400 invalid_input_field', async () => {
    const f = factorsOf(t.s.signer.id);
    for (const body of [
      { ...signBody(), account: accountOf('acct-other') },
      { ...signBody(), account: 'acct-main' },
      { ...signBody(), sig_alg: 'MD5withRSA' },
      { ...signBody(), hash: Buffer.alloc(20).toString('base64') },
      { ...signBody(), hash: 'not base64!' },
    ]) {
      expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), body)).toMatchObject({ status: 400, body: { error: { status: 'invalid_input_field' } } });
    }
  });

  it('sign bodies as real clients send them: account object or absent; sig_alg in any case (SHA256WithRSA, SHA256withRSA, SHA512WITHRSA)', async () => {
    const f = factorsOf(t.s.signer.id);
    const { account: _, ...noAccount } = signBody();
    for (const body of [signBody(), noAccount, { ...signBody(), sig_alg: 'SHA256WithRSA' }, { ...signBody(), sig_alg: 'sha256withrsa' }]) {
      const r = await softwareTrustCall(t.emu, f, 'POST', signPath(), body);
      expect(r).toMatchObject({ status: 200 });
      expect(verify('sha256', Buffer.from('release artifact'), certificatePublicKey(t.s.keypair), Buffer.from((r as { body: { signature: string } }).body.signature, 'base64'))).toBe(true);
    }
    const sha512 = createHash('sha512').update('release artifact').digest();
    const r = await softwareTrustCall(t.emu, f, 'POST', signPath(), { ...signBody(), sig_alg: 'SHA512WITHRSA', hash: sha512.toString('base64') });
    expect(verify('sha512', Buffer.from('release artifact'), certificatePublicKey(t.s.keypair), Buffer.from((r as { body: { signature: string } }).body.signature, 'base64'))).toBe(true);
  });

  it('strict sign body: an unknown key or a missing one is a 400 naming it; ECDSA and ED25519 are refused as not modelled', async () => {
    const f = factorsOf(t.s.signer.id);
    const { hash: _, ...noHash } = signBody();
    const cases: [unknown, string][] = [
      [{ ...signBody(), signature_algorithm: 'SHA256withRSA' }, "unknown field 'signature_algorithm' in the sign request"],
      [noHash, "missing required field 'hash' in the sign request"],
      [{ ...signBody(), account: 'acct-main' }, "field 'account' must be of type object"],
      [{ ...signBody(), sig_alg: 'SHA256WithECDSA' }, 'which this emulator does not model'],
      [{ ...signBody(), sig_alg: 'ED25519' }, 'which this emulator does not model'],
    ];
    for (const [body, message] of cases) {
      expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), body)).toMatchObject({ status: 400, body: { error: { status: 'invalid_input_field', message: expect.stringContaining(message) } } });
    }
    // The lenient mode (strict.ts) ignores the unknown key; a missing one is refused either way.
    t.emu.strictBodies = false;
    try {
      expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), cases[0]![0])).toMatchObject({ status: 200 });
      expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), noHash)).toMatchObject({ status: 400 });
    } finally {
      t.emu.strictBodies = true;
    }
  });

  it('GET /signatures/{id}: the signer reads what it signed; another user without the keypair gets 404', async () => {
    const f = factorsOf(t.s.signer.id);
    const signed = (await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())) as { body: { id: string; signature: string } };
    expect(await softwareTrustCall(t.emu, f, 'GET', `/signatures/${signed.body.id}`)).toMatchObject({
      status: 200,
      body: { id: signed.body.id, keypair: { id: t.s.keypair.id, alias: KEYPAIR_ALIAS }, sig_alg: 'SHA256withRSA', hash: digest.toString('base64'), signature: signed.body.signature, created_by: t.s.signer.id },
    });
    expect(await softwareTrustCall(t.emu, factorsOf(signerRole('not-the-signer').id), 'GET', `/signatures/${signed.body.id}`)).toMatchObject({ status: 404 });
  });

  it('is_signable_by_me is computed for the caller: assigned directly or through a group and holding Sign; a Lead that only sees the keypair gets false', async () => {
    const member = signerRole('group-member-for-flag');
    const team = t.emu.softwareTrust.addTeam('flag team', [member.id]);
    const kp = t.emu.softwareTrust.addKeypair({ alias: 'flag-key', users: [t.s.signer.id], teams: [team.id] });
    const lead = t.emu.model.addUser({ friendly_name: 'flag-lead', applications: [{ id: 'secure_software_manager', name: 'Software Trust Manager', permissions: ['VIEW_SM_CERTIFICATE', 'VIEW_SM_KEYPAIR', 'SIGN_SM_HASH', 'MANAGE_SM_KEYPAIR'] }] });
    for (const [userId, flag] of [[t.s.signer.id, true], [member.id, true], [lead.id, false]] as const) {
      expect(await softwareTrustCall(t.emu, factorsOf(userId), 'GET', `/keypairs/${kp.id}`)).toMatchObject({ status: 200, body: { is_signable_by_me: flag } });
    }
  });

  it('limit_by_users: false opens the keypair to every user of its account (guessed meaning)', async () => {
    const kp = t.emu.softwareTrust.addKeypair({ alias: 'open-key', limitByUsers: false });
    const f = factorsOf(signerRole('any-signer').id);
    expect(await softwareTrustCall(t.emu, f, 'GET', '/keypairs?alias=open-key')).toMatchObject({ status: 200, body: { items: [{ id: kp.id, limit_by_users: false, users: [], is_signable_by_me: true }] } });
  });

  it('certificates with statuses: ACTIVE, REVOKED, EXPIRED and a default; the listing filters by certificate_status as jsign asks', async () => {
    const kp = t.emu.softwareTrust.addKeypair({
      alias: 'three-certs',
      users: [t.s.signer.id],
      certificates: [{ alias: 'old', status: 'EXPIRED' }, { alias: 'bad', status: 'REVOKED', default: true }, { alias: 'good', status: 'ACTIVE', default: false }],
    });
    const f = factorsOf(t.s.signer.id);
    const read = (await softwareTrustCall(t.emu, f, 'GET', `/keypairs/${kp.id}`)) as { body: { certificates: Record<string, unknown>[]; number_of_active_certificates: number } };
    expect(read.body.certificates.map((c) => [c.alias, c.certificate_status, c.default_cert])).toEqual([['old', 'EXPIRED', false], ['bad', 'REVOKED', true], ['good', 'ACTIVE', false]]);
    expect(read.body.number_of_active_certificates).toBe(1);
    // An EXPIRED one really ended: its valid_to is in the past.
    expect(Date.parse(read.body.certificates[0]!.valid_to as string)).toBeLessThan(Date.now());
    expect(await softwareTrustCall(t.emu, f, 'GET', '/certificates?certificate_status=ACTIVE&limit=100')).toMatchObject({ status: 200, body: { limit: 100, items: expect.not.arrayContaining([expect.objectContaining({ alias: 'bad' })]) } });
  });
});

describe('Software Trust signing: both factors of one active user', () => {
  it('the API token alone (plain name): reads work, a signature is 403 "User is not multi-factor authenticated"', async () => {
    const { apiKey } = factorsOf(t.s.signer.id);
    expect(await softwareTrustCall(t.emu, { apiKey, plain: true }, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`)).toMatchObject({ status: 200, body: { total: 1 } });
    expect(await softwareTrustCall(t.emu, { apiKey, plain: true }, 'POST', signPath(), signBody())).toEqual({ status: 403, body: { error: { status: 'access_denied', message: NOT_MFA } } });
    // The whole sentence as reported (digicert/code-signing-software-trust-action issue 14).
    expect(NOT_MFA).toBe(
      'User is not multi-factor authenticated. Missing Client Authentication Certificate. As per compliance rules, user needs to be authenticated using multi-factor for performing sign operation.',
    );
  });

  it('the token alone on clientauth. fails in the handshake; the certificate alone is 401', async () => {
    const { apiKey, tls } = factorsOf(t.s.signer.id);
    expect(await softwareTrustCall(t.emu, { apiKey }, 'POST', signPath(), signBody())).toBe('handshake');
    expect(await softwareTrustCall(t.emu, { tls }, 'POST', signPath(), signBody())).toMatchObject({ status: 401 });
  });

  it("user A's token with user B's certificate is refused, both ways round", async () => {
    const a = factorsOf(t.s.signer.id);
    const b = factorsOf(signerRole('second-signer').id);
    for (const mixed of [{ apiKey: a.apiKey, tls: b.tls }, { apiKey: b.apiKey, tls: a.tls }]) {
      expect(await softwareTrustCall(t.emu, mixed, 'POST', signPath(), signBody())).toMatchObject({ status: 401, body: { error: { message: 'The API key and the client certificate belong to different users' } } });
    }
  });

  it('a disabled client certificate is refused; enabled again, it signs', async () => {
    const f = factorsOf(t.s.signer.id);
    t.emu.model.clientCertById(f.certId)!.enabled = false;
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 401, body: { error: { message: 'Client certificate is not registered to an active user' } } });
    t.emu.model.clientCertById(f.certId)!.enabled = true;
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 200 });
  });

  it('a client certificate past its end date (emulator clock) is refused; past its notAfter the handshake refuses it', async () => {
    const f = factorsOf(t.s.signer.id);
    t.emu.model.clientCertById(f.certId)!.end_date = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 401, body: { error: { message: 'Client certificate has passed its end date' } } });
    const old = t.emu.issueClientCert(t.s.signer.id, { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(await softwareTrustCall(t.emu, { apiKey: f.apiKey, tls: { cert: old.certPem, key: old.keyPem } }, 'POST', signPath(), signBody())).toBe('handshake');
  });

  it('a deleted user: neither its token nor its certificate works any more', async () => {
    const u = signerRole('deleted-signer');
    t.emu.softwareTrust.keypairs.get(t.s.keypair.id)!.users.add(u.id);
    const f = factorsOf(u.id);
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 200 });
    const del = await fetchDelete(`/account/api/v1/user/${u.id}`);
    expect(del).toBe(204);
    expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), signBody())).toMatchObject({ status: 401 });
    t.emu.softwareTrust.keypairs.get(t.s.keypair.id)!.users.delete(u.id);
  });
});

/** DELETE with the bootstrap's token, as the post step of a scope run does. */
async function fetchDelete(path: string): Promise<number> {
  const { Agent } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: t.emu.caPem } });
  try {
    const res = await dispatcher.request({ origin: `https://${t.emu.host}`, path, method: 'DELETE', headers: { 'x-api-key': t.s.bootstrap.apiKey } });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await dispatcher.destroy();
  }
}
