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
import { NOT_MFA, certificatePublicKey } from '../emulator/software-trust.js';
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
const signBody = () => ({ account: t.s.keypair.account, sig_alg: 'SHA256withRSA', hash: digest.toString('base64') });
const signPath = () => `/keypairs/${t.s.keypair.id}/sign`;

describe('Software Trust keypairs: assigned to users and teams', () => {
  it('the assigned signer lists its keypair by alias, reads it and its certificate (jsign shapes), and signs; the signature verifies', async () => {
    const me = factorsOf(t.s.signer.id);
    const listed = await softwareTrustCall(t.emu, me, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`);
    expect(listed).toMatchObject({ status: 200, body: { total: 1, items: [{ id: t.s.keypair.id, alias: KEYPAIR_ALIAS, key_alg: 'RSA', account: 'acct-main' }] } });
    const read = await softwareTrustCall(t.emu, me, 'GET', `/keypairs/${t.s.keypair.id}`);
    expect(read).toMatchObject({ status: 200, body: { key_alg: 'RSA', account: 'acct-main', default_certificate: { id: t.s.keypair.certificate.id } } });
    const certs = await softwareTrustCall(t.emu, me, 'GET', `/certificates?alias=${t.s.keypair.certificate.alias}`);
    expect(certs).toMatchObject({ status: 200, body: { items: [{ id: t.s.keypair.certificate.id, keypair: { id: t.s.keypair.id }, chain: [{ blob: expect.any(String) }] }] } });

    const signed = await softwareTrustCall(t.emu, me, 'POST', signPath(), signBody());
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
    const body = { account: kp.account, sig_alg: 'SHA256withRSA', hash: digest.toString('base64') };
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

  it('a malformed sign request: wrong account, unknown sig_alg, a hash of the wrong length: 400 invalid_input_field', async () => {
    const f = factorsOf(t.s.signer.id);
    for (const body of [
      { ...signBody(), account: 'acct-other' },
      { ...signBody(), sig_alg: 'MD5withRSA' },
      { ...signBody(), hash: Buffer.alloc(20).toString('base64') },
      { ...signBody(), hash: 'not base64!' },
    ]) {
      expect(await softwareTrustCall(t.emu, f, 'POST', signPath(), body)).toMatchObject({ status: 400, body: { error: { status: 'invalid_input_field' } } });
    }
  });
});

describe('Software Trust signing: both factors of one active user', () => {
  it('the API token alone (plain name): reads work, a signature is 403 "User is not multi-factor authenticated"', async () => {
    const { apiKey } = factorsOf(t.s.signer.id);
    expect(await softwareTrustCall(t.emu, { apiKey, plain: true }, 'GET', `/keypairs?alias=${KEYPAIR_ALIAS}`)).toMatchObject({ status: 200, body: { total: 1 } });
    expect(await softwareTrustCall(t.emu, { apiKey, plain: true }, 'POST', signPath(), signBody())).toEqual({ status: 403, body: { error: { status: 'access_denied', message: NOT_MFA } } });
    expect(NOT_MFA).toBe('User is not multi-factor authenticated. Missing Client Authentication Certificate.');
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
