/** The emulator refuses what the documentation says DigiCert ONE refuses, with the documented status and JSON. */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackSubdomainLookup } from '../src/platform/http.js';
import { startTenant, type Tenant } from './support/emulator.js';

let t: Tenant;
let dispatcher: Agent;
beforeAll(async () => {
  t = await startTenant();
  dispatcher = new Agent({ connect: { ca: t.emu.caPem } });
});
afterAll(async () => {
  await dispatcher.destroy();
  await t.emu.close();
});

async function call(method: string, path: string, key: string | undefined, body?: unknown) {
  const res = await dispatcher.request({
    origin: `https://${t.emu.host}`,
    path: `/account/api/v1${path}`,
    method: method as 'GET',
    headers: { ...(key ? { 'x-api-key': key } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('emulator', () => {
  it('a fault of its own (a malformed %-escape in a path) answers 500 at once instead of leaving the request hanging', async () => {
    const answer = await Promise.race([call('GET', '/user/%E0%A4%A', t.s.bootstrap.apiKey), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    expect(answer).toMatchObject({ status: 500, body: { errors: [{ code: 'server_error' }] } });
  });

  it('401 invalid_api_key without or with an unknown key', async () => {
    expect(await call('GET', '/user/me', undefined)).toMatchObject({ status: 401, body: { errors: [{ code: 'invalid_api_key' }] } });
    expect((await call('GET', '/user/me', 'nope')).status).toBe(401);
  });

  it('returns the caller for /user/me with the documented fields', async () => {
    const r = await call('GET', '/user/me', t.s.bootstrap.apiKey);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(expect.arrayContaining(['id', 'email', 'status', 'primary_account_id', 'user_type', 'friendly_name', 'applications']));
    expect(r.body.user_type).toBe('service');
  });

  it('validates names and end dates, and names must be unique per user', async () => {
    const k = t.s.bootstrap.apiKey;
    const u = t.s.signer.id;
    expect((await call('POST', '/api-access-token', k, { name: 'bad/name', end_date: tomorrow(), user_id: u })).body.errors[0].message).toMatch(/letters, numbers, spaces/);
    expect((await call('POST', '/api-access-token', k, { name: 'past', end_date: '2020-01-01', user_id: u })).status).toBe(400);
    expect((await call('POST', '/api-access-token', k, { name: 'baddate', end_date: '24/11/2026', user_id: u })).status).toBe(400);
    const first = await call('POST', '/api-access-token', k, { name: 'dup name', end_date: tomorrow(), user_id: u });
    expect(first.status).toBe(201);
    const again = await call('POST', '/api-access-token', k, { name: 'dup name', end_date: tomorrow(), user_id: u });
    expect(again).toMatchObject({ status: 400, body: { errors: [{ code: 'duplicate_error' }] } });
    // The listing never repeats the secret.
    const list = await call('GET', `/api-access-token?user_id=${u}`, k);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(first.body.token);
    expect((await call('DELETE', `/api-access-token/${first.body.id}`, k)).status).toBe(204);
    expect((await call('DELETE', `/api-access-token/${first.body.id}`, k)).status).toBe(404);
  });

  it('a minted token authenticates until its end date has passed', async () => {
    const r = await call('POST', '/api-access-token', t.s.bootstrap.apiKey, { name: 'clock test', end_date: tomorrow(), user_id: t.s.signer.id });
    expect((await call('GET', '/user/me', r.body.token)).status).toBe(200);
    const real = t.emu.model.clock;
    t.emu.model.clock = () => new Date(Date.now() + 2 * 86_400_000);
    try {
      expect(await call('GET', '/user/me', r.body.token)).toMatchObject({ status: 401, body: { errors: [{ message: 'API key has expired' }] } });
    } finally {
      t.emu.model.clock = real;
    }
  });

  it('a service user may not mint for itself; a standard user may', async () => {
    expect((await call('POST', '/api-access-token', t.s.bootstrap.apiKey, { name: 'self', end_date: tomorrow(), user_id: t.s.bootstrap.user.id })).status).toBe(403);
    expect((await call('POST', '/api-access-token', t.s.admin.apiKey, { name: 'self', end_date: tomorrow(), user_id: t.s.admin.user.id })).status).toBe(201);
  });

  it('faults: status with Retry-After, then normal service', async () => {
    t.emu.fault({ path: /user\/me/, kind: 'status', status: 429, retryAfter: '3', times: 2 });
    const a = await call('GET', '/user/me', t.s.bootstrap.apiKey);
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('3');
    expect((await call('GET', '/user/me', t.s.bootstrap.apiKey)).status).toBe(429);
    expect((await call('GET', '/user/me', t.s.bootstrap.apiKey)).status).toBe(200);
  });

  it('drop-after-commit makes the change and never answers', async () => {
    const before = t.emu.model.tokens.size;
    t.emu.fault({ method: 'POST', kind: 'drop-after-commit' });
    await expect(call('POST', '/api-access-token', t.s.bootstrap.apiKey, { name: 'lost answer', end_date: tomorrow(), user_id: t.s.signer.id })).rejects.toThrow();
    expect(t.emu.model.tokens.size).toBe(before + 1);
  });

  it('can answer with the documented {"error": {...}} shape too', async () => {
    t.emu.errorShape = 'error';
    try {
      expect((await call('GET', '/user/me', 'nope')).body).toEqual({ error: { code: 'invalid_api_key', message: 'Invalid API key' } });
    } finally {
      t.emu.errorShape = 'errors';
    }
  });
});

describe('emulator: the clientauth. name (mutual TLS on the same port, chosen by SNI)', () => {
  async function callCert(tls: { cert?: string; key?: string }, headers: Record<string, string> = {}) {
    const agent = new Agent({ connect: { ca: t.emu.caPem, ...tls, lookup: loopbackSubdomainLookup } });
    try {
      const res = await agent.request({ origin: `https://${t.emu.clientAuthHost}`, path: '/account/api/v1/user/me', method: 'GET', headers });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    } finally {
      await agent.destroy();
    }
  }

  it('the registered client certificate authenticates its user; the request records the SNI name and the user', async () => {
    const pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const before = t.emu.requests.length;
    const r = await callCert({ cert: pair.certPem, key: pair.keyPem });
    expect(r).toMatchObject({ status: 200, body: { id: t.s.bootstrap.user.id } });
    expect(t.emu.requests.slice(before)).toMatchObject([{ servername: 'clientauth.localhost', clientCertUser: t.s.bootstrap.user.id, hadApiKey: false, tokenId: undefined }]);
  });

  it('does not refuse an x-api-key header there (the docs say omit it, not that it is refused): the certificate authenticates', async () => {
    const pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const before = t.emu.requests.length;
    // Another user's key: ignored, the certificate's user is the caller.
    const r = await callCert({ cert: pair.certPem, key: pair.keyPem }, { 'x-api-key': t.s.admin.apiKey });
    expect(r).toMatchObject({ status: 200, body: { id: t.s.bootstrap.user.id } });
    expect(t.emu.requests.slice(before)).toMatchObject([{ clientCertUser: t.s.bootstrap.user.id, hadApiKey: true, tokenId: undefined }]);
  });

  it('without a client certificate the handshake fails; the API never sees a request', async () => {
    const before = t.emu.requests.length;
    const failures = t.emu.handshakeFailures.length;
    await expect(callCert({})).rejects.toThrow();
    expect(t.emu.requests.length).toBe(before);
    expect(t.emu.handshakeFailures.slice(failures)).toEqual([{ servername: 'clientauth.localhost', reason: 'peer did not return a certificate' }]);
  });

  it('a user past its end date cannot use its certificate: 401', async () => {
    const u = t.emu.model.addUser({ friendly_name: 'retired-cert-user', end_date: '2020-01-01' });
    const pair = t.emu.issueClientCert(u.id);
    expect(await callCert({ cert: pair.certPem, key: pair.keyPem })).toMatchObject({ status: 401, body: { errors: [{ message: 'User has passed its end date' }] } });
  });

  it('the plain name asks for no certificate and still takes x-api-key', async () => {
    expect((await call('GET', '/user/me', t.s.bootstrap.apiKey)).status).toBe(200);
    expect(t.emu.requests.at(-1)).toMatchObject({ servername: 'localhost', clientCertUser: undefined });
  });
});
