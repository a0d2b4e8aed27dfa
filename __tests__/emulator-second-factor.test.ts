/**
 * The emulator's second factor, over real HTTPS and mutual TLS: client authentication certificates issued from a CSR
 * for the authenticated user, enabled and disabled, refused when disabled or expired, and Software Trust on the
 * clientauth. name answering only to both factors of one user. The CSRs and PKCS#12 come from src/keys/job-certificate.ts,
 * so these tests also show that what the action will make is what the emulator takes.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackSubdomainLookup } from '../src/platform/http.js';
import { makeJobCertificateRequest, randomPassword, toPkcs12, type JobCertificateRequest } from '../src/keys/job-certificate.js';
import { softwareTrustStatus, startTenant, type Tenant } from './support/emulator.js';

let t: Tenant;
const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await startTenant();
});
afterAll(async () => {
  await t.emu.close();
});

interface Call {
  method?: string;
  path: string;
  /** Which name: the plain one (x-api-key) or clientauth. (client certificate in the handshake). */
  clientAuth?: boolean;
  apiKey?: string;
  tls?: { cert: string; key: string } | { pfx: Buffer; passphrase: string };
  body?: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: the emulator's JSON answers, read field by field by the assertions (a wrong field fails them)
async function call(c: Call): Promise<{ status: number; body: any }> {
  const agent = new Agent({ connect: { ca: t.emu.caPem, lookup: loopbackSubdomainLookup, ...(c.tls ?? {}) } });
  try {
    const res = await agent.request({
      origin: `https://${c.clientAuth ? t.emu.clientAuthHost : t.emu.host}`,
      path: c.path,
      method: (c.method ?? 'GET') as 'GET',
      headers: { ...(c.apiKey ? { 'x-api-key': c.apiKey } : {}), ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: c.body !== undefined ? JSON.stringify(c.body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.destroy();
  }
}

const CERTS = '/account/api/v1/client-auth-certificate';
const ST = '/signingmanager/api/v1/certificates';

/** A token for a user, minted by the bootstrap identity as the action does. */
async function mintFor(userId: string, name: string): Promise<{ id: string; token: string }> {
  const r = await call({ method: 'POST', path: '/account/api/v1/api-access-token', apiKey: t.s.bootstrap.apiKey, body: { name, end_date: day(1), user_id: userId } });
  expect(r.status).toBe(201);
  return { id: r.body.id, token: r.body.token };
}

/** Both factors of one user: its token, and a certificate for a key made in memory, asked for with that token. */
async function secondFactor(apiKey: string, name: string, endDate = day(1)) {
  const req: JobCertificateRequest = await makeJobCertificateRequest(`job ${name}`);
  const r = await call({ method: 'POST', path: CERTS, apiKey, body: { name, end_date: endDate, csr: req.csrPem } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const keyPem = req.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { id: r.body.id as string, certPem: r.body.certificate as string, tls: { cert: r.body.certificate as string, key: keyPem }, req, body: r.body };
}

describe('POST /client-auth-certificate: a certificate for the authenticated user, from a CSR', () => {
  it('issues a client-auth certificate for the caller, signed by the client CA, ending at the end date, that then authenticates on clientauth.', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 1');
    const { certPem, tls, req, body } = await secondFactor(token, 'job cert 1');
    expect(body).toMatchObject({ user_id: t.s.signer.id, end_date: day(1), enabled: true, name: 'job cert 1' });
    const x = new X509Certificate(certPem);
    expect(x.verify(createPublicKey(t.emu.pki.clientCa.certPem))).toBe(true);
    expect(x.checkPrivateKey(req.privateKey)).toBe(true);
    expect(x.subject).toContain(`CN=${t.s.signer.id}`);
    expect(new Date(x.validTo).toISOString()).toBe(`${day(1)}T23:59:59.000Z`);
    expect(x.keyUsage ?? []).toContain('1.3.6.1.5.5.7.3.2'); // extKeyUsage clientAuth
    // The secret parts never come back from the server: it saw a CSR, never a key.
    expect(JSON.stringify(t.emu.requests.at(-1)!.body)).not.toContain('PRIVATE KEY');

    const me = await call({ path: '/account/api/v1/user/me', clientAuth: true, tls });
    expect(me).toMatchObject({ status: 200, body: { id: t.s.signer.id } });
    expect(t.emu.requests.at(-1)).toMatchObject({ servername: 'clientauth.localhost', clientCertUser: t.s.signer.id, hadApiKey: false });
  });

  it('a caller authenticated by its client certificate gets one for itself too', async () => {
    const boot = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const req = await makeJobCertificateRequest('via mtls');
    const r = await call({ method: 'POST', path: CERTS, clientAuth: true, tls: { cert: boot.certPem, key: boot.keyPem }, body: { name: 'via mtls', end_date: day(0), csr: req.csrPem } });
    expect(r).toMatchObject({ status: 201, body: { user_id: t.s.bootstrap.user.id, end_date: day(0) } });
  });

  it("refuses an end date later than the user's, in the past, or missing, with 400 invalid_request", async () => {
    const u = t.emu.model.addUser({ friendly_name: 'ends-tomorrow', end_date: day(1) });
    const { token } = await mintFor(u.id, 'ends tomorrow token');
    const req = await makeJobCertificateRequest('x');
    expect(await call({ method: 'POST', path: CERTS, apiKey: token, body: { name: 'too late', end_date: day(2), csr: req.csrPem } })).toEqual({
      status: 400,
      body: { errors: [{ code: 'invalid_request', message: `end_date cannot be later than the user's end date ${day(1)}` }] },
    });
    expect((await call({ method: 'POST', path: CERTS, apiKey: token, body: { name: 'past', end_date: '2020-01-01', csr: req.csrPem } })).body.errors[0].message).toBe('end_date cannot be in the past');
    expect((await call({ method: 'POST', path: CERTS, apiKey: token, body: { name: 'no date', csr: req.csrPem } })).status).toBe(400);
    expect((await call({ method: 'POST', path: CERTS, apiKey: token, body: { name: 'on the day', end_date: day(1), csr: req.csrPem } })).status).toBe(201);
    expect([...t.emu.model.clientCerts.values()].filter((c) => c.user_id === u.id).map((c) => c.name)).toEqual(['on the day']);
  });

  it('refuses a CSR that is missing, not PEM, or not signed by its own key; names must be valid and unique per user', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 2');
    const good = await makeJobCertificateRequest('good');
    const other = await makeJobCertificateRequest('other');
    const post = (body: unknown) => call({ method: 'POST', path: CERTS, apiKey: token, body });
    expect((await post({ name: 'n1', end_date: day(1) })).body.errors[0].message).toMatch(/missing required field 'csr'/);
    expect((await post({ name: 'n1', end_date: day(1), csr: 'hello' })).status).toBe(400);
    // The CSR's signature made by another key: no proof of possession.
    const lines = good.csrPem.trim().split('\n');
    const der = Buffer.from(lines.slice(1, -1).join(''), 'base64');
    const otherDer = Buffer.from(other.csrPem.trim().split('\n').slice(1, -1).join(''), 'base64');
    const forged = Buffer.concat([der.subarray(0, der.length - 256), otherDer.subarray(otherDer.length - 256)]);
    const forgedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${forged.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await post({ name: 'n1', end_date: day(1), csr: forgedPem })).toMatchObject({ status: 400, body: { errors: [{ message: 'csr signature does not verify' }] } });
    expect((await post({ name: 'bad/name', end_date: day(1), csr: good.csrPem })).body.errors[0].message).toMatch(/letters, numbers, spaces/);
    expect((await post({ name: 'unique', end_date: day(1), csr: good.csrPem })).status).toBe(201);
    expect(await post({ name: 'unique', end_date: day(1), csr: other.csrPem })).toMatchObject({ status: 400, body: { errors: [{ code: 'duplicate_error' }] } });
  });

  it('without a credential: 401', async () => {
    const req = await makeJobCertificateRequest('anon');
    expect((await call({ method: 'POST', path: CERTS, body: { name: 'anon', end_date: day(1), csr: req.csrPem } })).status).toBe(401);
  });
});

describe('PUT /client-auth-certificate/{id}/enable, and no DELETE', () => {
  it('disabling stops the certificate at once (401 after the handshake); enabling restores it; repeating a state is 200', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 3');
    const { id, tls } = await secondFactor(token, 'switch me');
    const me = () => call({ path: '/account/api/v1/user/me', clientAuth: true, tls });
    expect((await me()).status).toBe(200);
    expect(await call({ method: 'PUT', path: `${CERTS}/${id}/enable`, apiKey: token, body: { enabled: false } })).toMatchObject({ status: 200, body: { id, enabled: false } });
    expect(await me()).toMatchObject({ status: 401, body: { errors: [{ message: 'Client certificate is not registered to an active user' }] } });
    expect((await call({ method: 'PUT', path: `${CERTS}/${id}/enable`, apiKey: token, body: { enabled: false } })).status).toBe(200);
    // The bootstrap identity (Manage users on the signer's account) may switch it too.
    expect((await call({ method: 'PUT', path: `${CERTS}/${id}/enable`, apiKey: t.s.bootstrap.apiKey, body: { enabled: true } })).status).toBe(200);
    expect((await me()).status).toBe(200);
  });

  it('400 without a boolean, 404 for an unknown id, 403 for a caller that may not manage the owner', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 4');
    const { id } = await secondFactor(token, 'guarded');
    expect((await call({ method: 'PUT', path: `${CERTS}/${id}/enable`, apiKey: token, body: { enabled: 'no' } })).status).toBe(400);
    expect((await call({ method: 'PUT', path: `${CERTS}/nope/enable`, apiKey: token, body: { enabled: false } })).status).toBe(404);
    expect((await call({ method: 'PUT', path: `${CERTS}/${id}/enable`, apiKey: t.s.powerless.apiKey, body: { enabled: false } })).status).toBe(403);
    expect(t.emu.model.clientCertById(id)!.enabled).toBe(true);
  });

  it('there is no DELETE (the docs list none): 404, and the certificate still works', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 5');
    const { id, tls } = await secondFactor(token, 'undeletable');
    expect(await call({ method: 'DELETE', path: `${CERTS}/${id}`, apiKey: token })).toMatchObject({ status: 404, body: { errors: [{ code: 'resource_not_found' }] } });
    expect((await call({ path: '/account/api/v1/user/me', clientAuth: true, tls })).status).toBe(200);
  });

  it('past its end date (by the emulator clock) it is refused with 401; past its notAfter the handshake refuses it', async () => {
    const { token } = await mintFor(t.s.signer.id, 'second factor 6');
    const { tls } = await secondFactor(token, 'short lived', day(0));
    const real = t.emu.model.clock;
    t.emu.model.clock = () => new Date(Date.now() + 2 * DAY);
    try {
      expect(await call({ path: '/account/api/v1/user/me', clientAuth: true, tls })).toMatchObject({ status: 401, body: { errors: [{ message: 'Client certificate has passed its end date' }] } });
    } finally {
      t.emu.model.clock = real;
    }
    const old = t.emu.issueClientCert(t.s.signer.id, { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    const failures = t.emu.handshakeFailures.length;
    const before = t.emu.requests.length;
    await expect(call({ path: '/account/api/v1/user/me', clientAuth: true, tls: { cert: old.certPem, key: old.keyPem } })).rejects.toThrow();
    expect(t.emu.requests.length).toBe(before);
    expect(t.emu.handshakeFailures.slice(failures)).toEqual([{ servername: 'clientauth.localhost', reason: 'CERT_HAS_EXPIRED' }]);
    const oldPfx = await toPkcs12(old.certPem, [], createPrivateKey(old.keyPem), 'pw');
    const { token: any } = await mintFor(t.s.signer.id, 'second factor 7');
    expect(await softwareTrustStatus(t.emu, any, oldPfx, 'pw')).toBe('handshake');
  });
});

describe('Software Trust on the clientauth. name: both factors of the same active user', () => {
  it('200 with the token and the PKCS#12 of one user; 401 with either alone or with factors of two users', async () => {
    const signer = await mintFor(t.s.signer.id, 'two factors');
    const { certPem, req } = await secondFactor(signer.token, 'two factors cert');
    const password = randomPassword();
    const pfx = await toPkcs12(certPem, [t.emu.pki.clientCa.certPem], req.privateKey, password);
    const tls = { pfx, passphrase: password };

    expect(await call({ path: ST, clientAuth: true, apiKey: signer.token, tls })).toMatchObject({ status: 200, body: { items: [{ keypair: { id: t.s.keypair.id } }] } });
    expect(t.emu.requests.at(-1)).toMatchObject({ servername: 'clientauth.localhost', clientCertUser: t.s.signer.id, tokenId: signer.id, hadApiKey: true });
    // The helper later e2e tests use (a step holding SM_API_KEY, SM_CLIENT_CERT_FILE and its password).
    expect(await softwareTrustStatus(t.emu, signer.token, pfx, password)).toBe(200);
    expect(await softwareTrustStatus(t.emu, t.s.bootstrap.apiKey, pfx, password)).toBe(401);
    await expect(softwareTrustStatus(t.emu, signer.token, pfx, 'wrong password')).rejects.toThrow(/mac verify failure/);

    expect(await call({ path: ST, clientAuth: true, tls })).toMatchObject({ status: 401, body: { error: { message: /both factors/ } } });
    // Another user's token over the signer's certificate (the bootstrap holds VIEW_SM_CERTIFICATE too).
    expect(await call({ path: ST, clientAuth: true, apiKey: t.s.bootstrap.apiKey, tls })).toMatchObject({ status: 401, body: { error: { message: /different users/ } } });
    expect((await call({ path: ST, clientAuth: true, apiKey: 'not-a-token', tls })).status).toBe(401);
    // Without a certificate the clientauth. name refuses in the handshake.
    await expect(call({ path: ST, clientAuth: true, apiKey: signer.token })).rejects.toThrow();
    // The Account Manager API on the same name ignores x-api-key: the certificate authenticates (docs: "omit", not "refused").
    expect(await call({ path: '/account/api/v1/user/me', clientAuth: true, apiKey: t.s.bootstrap.apiKey, tls })).toMatchObject({ status: 200, body: { id: t.s.signer.id } });
  });

  it('refused once either factor is revoked: the token deleted, the certificate disabled, or the user deleted', async () => {
    const { token, id: tokenId } = await mintFor(t.s.signer.id, 'revoke token');
    const { id: certId, tls } = await secondFactor(token, 'revoke cert');
    expect((await call({ path: ST, clientAuth: true, apiKey: token, tls })).status).toBe(200);
    expect((await call({ method: 'DELETE', path: `/account/api/v1/api-access-token/${tokenId}`, apiKey: t.s.bootstrap.apiKey })).status).toBe(204);
    expect((await call({ path: ST, clientAuth: true, apiKey: token, tls })).status).toBe(401);

    const again = await mintFor(t.s.signer.id, 'revoke token 2');
    expect((await call({ path: ST, clientAuth: true, apiKey: again.token, tls })).status).toBe(200);
    expect((await call({ method: 'PUT', path: `${CERTS}/${certId}/enable`, apiKey: again.token, body: { enabled: false } })).status).toBe(200);
    expect((await call({ path: ST, clientAuth: true, apiKey: again.token, tls })).status).toBe(401);

    // An ephemeral service user (the scope path): deleting it takes its token and certificates with it.
    const created = await call({
      method: 'POST',
      path: '/account/api/v1/user',
      apiKey: t.s.bootstrap.apiKey,
      body: { user_type: 'service', friendly_name: 'ephemeral-signer-1', email: 'eph1@example.test', end_date: day(0), accounts: ['acct-main'], roles: ['SSM_SIGNER'] },
    });
    expect(created.status).toBe(201);
    const eph = await secondFactor(created.body.api_token, 'eph cert', day(0));
    expect((await call({ path: ST, clientAuth: true, apiKey: created.body.api_token, tls: eph.tls })).status).toBe(200);
    expect((await call({ method: 'DELETE', path: `/account/api/v1/user/${created.body.id}`, apiKey: t.s.bootstrap.apiKey })).status).toBe(204);
    expect((await call({ path: ST, clientAuth: true, apiKey: created.body.api_token, tls: eph.tls })).status).toBe(401);
    expect(t.emu.model.liveClientCerts().some((c) => c.user_id === created.body.id)).toBe(false);
  });

  it('the plain name still serves the read with the API key alone (API key authentication for read-only operations)', async () => {
    const { token } = await mintFor(t.s.signer.id, 'plain read');
    expect((await call({ path: ST, apiKey: token })).status).toBe(200);
  });
});
