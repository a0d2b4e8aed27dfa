/**
 * An earlier step of the job is hostile too (issue 18): anything it can write to GITHUB_ENV (every variable but
 * NODE_OPTIONS) reaches this action's steps. Nothing it sets may decide what the bootstrap credential does or where
 * it goes. Each test runs the bundle through the runner model against the emulator, with the attacker's lines in
 * the job environment, and checks what the emulator and the attacker's proxy saw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type KeyPair } from '../emulator/pki.js';
import { ConnectProxy } from '../harness/proxy.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const tenantEnv = useTenant();
let t: Tenant;
let attackerCa: KeyPair;
let mitmCert: KeyPair;
let dir: string;
beforeAll(() => {
  t = tenantEnv.tenant;
  attackerCa = makeCert({ commonName: 'Attacker CA', isCa: true });
  mitmCert = makeCert({ commonName: 'localhost', dnsNames: ['localhost', 'clientauth.localhost'], issuer: attackerCa });
  dir = mkdtempSync(join(tmpdir(), 'd1-attacker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inputs = () => ({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });

/** Every header value the man in the middle read, to look for the bootstrap key in. */
const seenBy = (p: ConnectProxy): string => JSON.stringify(p.intercepted);

describe('STATE_* in the job environment', () => {
  it('cannot make main act as post: main mints, and nothing that existed before is touched', async () => {
    // Another team's long-lived token and an unrelated service user, whose ids an attacker read in earlier logs.
    const victimToken = t.emu.model.addToken(t.s.outsider.id, 'other-team-long-lived', undefined);
    const victimUser = t.emu.model.addUser({ friendly_name: 'unrelated-service-user' });
    const forged = JSON.stringify([
      { kind: 'api-token', id: victimToken.id, name: 'x', userId: t.s.outsider.id, endDate: '2026-12-01' },
      { kind: 'service-user', id: victimUser.id, name: 'x', userId: victimUser.id, endDate: '2026-12-01' },
    ]);
    const j = tenantEnv.job(inputs(), {
      STATE_isPost: 'true',
      STATE_host: t.emu.host,
      STATE_credentials: forged,
      STATE_network: '0'.repeat(32),
    });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    // Main minted (one create) and deleted nothing.
    expect(t.emu.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /account/api/v1/api-access-token']);
    expect(main.outputs['token-id']).toBeTruthy();

    // Post acts on main's own state (the runner hands it after the job env), so only on what main made.
    const beforePost = t.emu.requests.length;
    const post = await j.post();
    expect(post.outcome).toBe('success');
    expect(t.emu.requests.slice(beforePost).map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /account/api/v1/api-access-token/${main.outputs['token-id']}`]);
    expect(await statusWith(t.emu, victimToken.secret)).toBe(200);
    expect(t.emu.model.users.has(victimUser.id)).toBe(true);
  });
});

describe('a man in the middle named by the job environment', () => {
  let mitm: ConnectProxy;
  beforeAll(async () => {
    mitm = await ConnectProxy.start({ mitm: mitmCert });
  });
  afterAll(() => mitm.close());

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 with HTTPS_PROXY before main: the proxy gets no key, main fails, and it says it ignored the variable', async () => {
    const seen = mitm.intercepted.length;
    const j = tenantEnv.job(inputs(), { HTTPS_PROXY: mitm.url, NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(mitm.connects.length).toBeGreaterThan(0); // it was asked to tunnel…
    expect(mitm.intercepted.length).toBe(seen); // …and read no request
    expect(seenBy(mitm)).not.toContain(t.s.bootstrap.apiKey);
    expect(main.log.join('\n')).toMatch(/Warning: NODE_TLS_REJECT_UNAUTHORIZED=0 is set in this step's environment and is ignored/);
    expect(main.log.join('\n')).toMatch(/TLS certificate of localhost:\d+ could not be verified/);
    const post = await j.post();
    expect(post.log.join('\n')).toContain('Nothing to revoke');
  });

  it('NODE_EXTRA_CA_CERTS naming a planted CA with HTTPS_PROXY before main: the proxy gets no key', async () => {
    const caFile = join(dir, 'planted-ca.pem');
    writeFileSync(caFile, attackerCa.certPem);
    const seen = mitm.intercepted.length;
    const j = tenantEnv.job(inputs(), { HTTPS_PROXY: mitm.url, NODE_EXTRA_CA_CERTS: caFile });
    const main = await j.main();
    expect(main.outcome).toBe('failure');
    expect(mitm.intercepted.length).toBe(seen);
    expect(main.log.join('\n')).toContain('NODE_EXTRA_CA_CERTS is set and is not used for DigiCert ONE');
    await j.post();
  });

  it('HTTPS_PROXY and NODE_TLS_REJECT_UNAUTHORIZED=0 written between main and post: post sends nothing and never reports a revocation', async () => {
    const j = tenantEnv.job(inputs());
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    const id = main.outputs['token-id']!;
    j.writeGithubEnv({ HTTPS_PROXY: mitm.url, NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    const seen = mitm.intercepted.length;
    const connects = mitm.connects.length;
    const before = t.emu.requests.length;
    const post = await j.post();
    expect(post.outcome).toBe('success'); // post never fails the job
    expect(mitm.connects.length).toBe(connects); // not even a CONNECT
    expect(mitm.intercepted.length).toBe(seen);
    expect(t.emu.requests.length).toBe(before);
    const log = post.log.join('\n');
    expect(log).not.toMatch(/Revoked token/);
    expect(log).toMatch(/Warning: Could not revoke token .* the proxy settings \(HTTPS_PROXY, HTTP_PROXY, NO_PROXY\) differ from those the main step used/);
    expect(post.summary).toContain('FAILED \\(proxy settings changed since main; nothing was sent\\)');
    // Honest: it is still live, as the warning says; the test revokes it.
    expect(t.emu.model.liveTokens().some((x) => x.id === id)).toBe(true);
    t.emu.model.tokens.get(id)!.deleted = true;
  });

  it('the HTTP client verifies TLS even with NODE_TLS_REJECT_UNAUTHORIZED=0 in its own process', async () => {
    const { createHttpClient, trustAnchors } = await import('../src/platform/http.js');
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    const seen = mitm.intercepted.length;
    const http = createHttpClient({ baseUrl: `https://${t.emu.host}`, headers: { 'x-api-key': 'bootstrap-key-value' }, env: { HTTPS_PROXY: mitm.url }, ca: trustAnchors() });
    try {
      await expect(http.send('DELETE', '/account/api/v1/api-access-token/x', undefined, 5000)).rejects.toMatchObject({ name: 'NetworkError' });
    } finally {
      await http.close();
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
    expect(mitm.intercepted.length).toBe(seen);
  });
});
