/**
 * Runners behind a corporate proxy: the bundled action, main then post, through a real CONNECT proxy on
 * loopback. Only the variables a runner sets are given (no NODE_USE_ENV_PROXY: RunnerJob starts from an empty
 * environment, so nothing is inherited from the machine running the tests).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob } from '../harness/runner.js';
import { ConnectProxy } from '../harness/proxy.js';
import { scanJob } from '../harness/leaks.js';
import { toP12Base64 } from '../emulator/pki.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const tenantEnv = useTenant();
let t: Tenant;
beforeAll(() => void (t = tenantEnv.tenant));
const proxies: ConnectProxy[] = [];
afterEach(async () => {
  while (proxies.length) await proxies.pop()!.close();
});

async function proxy(opts: Parameters<typeof ConnectProxy.start>[0] = {}): Promise<ConnectProxy> {
  const p = await ConnectProxy.start(opts);
  proxies.push(p);
  return p;
}

function job(env: Record<string, string>): RunnerJob {
  // The end-date check is off so that each step makes one request, hence one CONNECT.
  return tenantEnv.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '0' }, env);
}

function seen(from: number): string[] {
  return t.emu.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/[^/]+$/, (last) => (last === 'api-access-token' ? last : '{id}'))} ${r.status}`);
}

describe('behind an HTTPS proxy', () => {
  it.each([
    ['HTTPS_PROXY', {}],
    ['https_proxy', {}],
    ['HTTPS_PROXY', { NODE_USE_ENV_PROXY: '1' }],
  ] as const)('%s %j: main and post tunnel through the proxy, the token works and is revoked', async (name, extra) => {
    const p = await proxy();
    const j = job({ [name]: p.url, ...extra });
    const target = `localhost:${t.emu.port}`;

    let before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(p.connects).toEqual([target]);
    expect(seen(before)).toEqual(['POST /account/api/v1/api-access-token 201']);
    const token = main.outputs.token!;
    expect(await statusWith(t.emu, token)).toBe(200);

    before = t.emu.requests.length;
    const post = await j.post();
    expect(post.exitCode, post.log.join('\n')).toBe(0);
    expect(p.connects).toEqual([target, target]);
    expect(seen(before)).toEqual(['DELETE /account/api/v1/api-access-token/{id} 204']);
    expect(post.log.join('\n')).toContain('Revoked token');
    // No "EnvHttpProxyAgent is experimental" (or any other) noise in the job log.
    expect(main.stderr + post.stderr).toBe('');
    expect(await statusWith(t.emu, token)).toBe(401);

    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('with a client certificate: the tunnel goes to clientauth.<host>, and the certificate travels inside it', async () => {
    const p = await proxy();
    const password = 'tunnel-pw-1';
    const p12 = toP12Base64(t.emu.issueClientCert(t.s.bootstrap.user.id), password);
    const j = tenantEnv.job(
      { 'client-certificate': p12, 'client-certificate-password': password, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '0' },
      { HTTPS_PROXY: p.url },
    );
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    // The proxy only ever saw where to connect; the emulator saw the certificate's user, with no x-api-key.
    expect(p.connects).toEqual([t.emu.clientAuthHost, t.emu.clientAuthHost]);
    const seenReqs = t.emu.requests.slice(before);
    expect(seenReqs.map((r) => `${r.method} ${r.status} ${r.servername} ${r.hadApiKey} ${r.clientCertUser}`)).toEqual([
      `POST 201 clientauth.localhost false ${t.s.bootstrap.user.id}`,
      `DELETE 204 clientauth.localhost false ${t.s.bootstrap.user.id}`,
    ]);
    expect(scanJob(j, { p12, password, minted: main.outputs.token! }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('a password in the proxy URL is masked in both steps and reaches nothing the runner keeps', async () => {
    const p = await proxy();
    const password = 'proxy-pa$$-9731';
    const j = job({ HTTPS_PROXY: `http://ci-user:${encodeURIComponent(password)}@127.0.0.1:${p.port}` });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(p.connects).toHaveLength(2);
    for (const step of [main, post]) expect(step.stdout.split('\n')).toContain(`::add-mask::${password}`);
    expect(scanJob(j, { password, minted: main.outputs.token! }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it.each(['NO_PROXY', 'no_proxy'])('%s=localhost bypasses the proxy for main and post', async (name) => {
    const p = await proxy();
    const j = job({ HTTPS_PROXY: p.url, [name]: 'localhost' });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(seen(before)).toEqual(['POST /account/api/v1/api-access-token 201', 'DELETE /account/api/v1/api-access-token/{id} 204']);
    expect(p.connects).toEqual([]);
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
  });

  it('a proxy that refuses the tunnel fails main with a message about the proxy, and nothing reaches DigiCert ONE', async () => {
    const p = await proxy({ refuse: 403 });
    const j = job({ HTTPS_PROXY: p.url });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(p.connects).toEqual([`localhost:${t.emu.port}`]);
    expect(seen(before)).toEqual([]);
    const error = main.log.find((l) => l.startsWith('Error: ')) ?? '';
    expect(error).toContain('POST /account/api/v1/api-access-token');
    expect(error).toContain('403');
    expect(error).toContain(`the proxy (HTTPS_PROXY) refused to open a tunnel to localhost:${t.emu.port} (proxy answered 403)`);
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey })).toEqual([]);
  });
});
