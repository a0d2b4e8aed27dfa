/**
 * `preflight: true` through the runner model against the emulator: every check passes on a good set-up and
 * nothing is created; each broken set-up fails the step (exit code 1) with its own [FAIL] line.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob, StepResult } from '../harness/runner.js';
import { ConnectProxy } from '../harness/proxy.js';
import { makeCert, toP12Base64 } from '../emulator/pki.js';
import { useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));
const proxies: ConnectProxy[] = [];
afterEach(async () => {
  while (proxies.length) await proxies.pop()!.close();
});
const DAY = 86_400_000;

function job(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): RunnerJob {
  return env.job({ preflight: 'true', 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, ...inputs }, extraEnv);
}

/** Runs main (preflight) and post, and checks that nothing but GETs reached the emulator and no token appeared. */
async function preflight(j: RunnerJob): Promise<{ main: StepResult; post: StepResult }> {
  const before = t.emu.requests.length;
  const tokens = t.emu.model.tokens.size;
  const users = t.emu.model.users.size;
  const main = await j.main();
  const post = await j.post();
  expect(t.emu.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  expect([t.emu.model.tokens.size, t.emu.model.users.size]).toEqual([tokens, users]);
  expect(main.outputs.token).toBeUndefined();
  // Post must see "nothing to revoke": preflight records no credential (every key written, none from the env).
  expect(main.state).toEqual({ host: '', network: '', credentials: '[]', broker: '' });
  expect(post.exitCode).toBe(0);
  expect(post.log).toContain('Nothing to revoke: the main step did not mint a token.');
  return { main, post };
}

const lines = (s: StepResult, tag: string) => s.log.filter((l) => l.startsWith(tag));

describe('preflight: a good set-up', () => {
  it('service-user-id: every check passes, field names are listed, and the summary has the table', async () => {
    const { main } = await preflight(job({}));
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(lines(main, '[FAIL]')).toEqual([]);
    expect(lines(main, '[PASS]').map((l) => l.split(':')[0])).toEqual([
      '[PASS] inputs',
      '[PASS] host environment',
      '[PASS] bootstrap credential',
      '[PASS] bootstrap user',
      '[PASS] target user',
      '[PASS] token rights',
      '[PASS] read-only',
    ]);
    expect(main.log).toContain('[PASS] read-only: 3 request(s), all GET; nothing was created, changed or deleted.');
    // Field names, never values: the user's id is in the answer of GET /user/me but only names are printed.
    const me = main.log.find((l) => l.includes('GET /account/api/v1/user/me on'))!;
    expect(me).toMatch(/-> 200: fields id, email, status, .*friendly_name/);
    expect(me).not.toContain(t.s.bootstrap.user.email);
    expect(main.log.some((l) => /GET \/account\/api\/v1\/api-access-token on .* -> 200: (array of \d+ with fields id, name|empty array)/.test(l))).toBe(true);
    expect(main.summary).toContain('### DigiCert ONE preflight: all checks passed');
    expect(main.summary).toContain('| token rights | PASS |');
    expect(main.summary).toContain('| `GET /account/api/v1/user/me` |');
  });

  it('with client-certificate-for-job: says the certificate is not tried, and still mints nothing', async () => {
    const { main } = await preflight(job({ 'client-certificate-for-job': 'true' }));
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(lines(main, '[SKIP] job certificate')).toHaveLength(1);
  });

  it('scope and accounts: each role resolves and is held, accounts reachable', async () => {
    const { main } = await preflight(job({ 'service-user-id': '', scope: 'Software Trust: Signer\nAccount Manager: Account User', accounts: 'acct-main' }));
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain('[PASS] role Software Trust: Signer: resolves to SSM_SIGNER, and the bootstrap holds all 3 of its permissions.');
    expect(main.log).toContain('[PASS] accounts: the bootstrap reaches acct-main.');
    expect(lines(main, '[PASS] service users')).toHaveLength(1);
  });

  it('client certificate through a tunnelling proxy: accepted on clientauth., proxy passes', async () => {
    const pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const proxy = await ConnectProxy.start();
    proxies.push(proxy);
    const { main } = await preflight(job({ 'api-key': '', 'client-certificate': toP12Base64(pair, 'pw-preflight'), 'client-certificate-password': 'pw-preflight' }, { HTTPS_PROXY: proxy.url }));
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain(`[PASS] proxy: requests to ${t.emu.clientAuthHost} tunnel through the proxy 127.0.0.1:${proxy.port}.`);
    expect(lines(main, '[PASS] client certificate')).toHaveLength(1);
    expect(lines(main, '[PASS] bootstrap credential')[0]).toContain('(client certificate in the TLS handshake)');
    expect(new Set(proxy.connects)).toEqual(new Set([t.emu.clientAuthHost]));
  });
});

describe('preflight: the bootstrap itself', () => {
  it('`me` with an administrator (standard user): passes; the bootstrap near its end date is a warning, not a failure', async () => {
    const admin = t.s.admin.user;
    admin.end_date = new Date(Date.now() + 3 * DAY).toISOString().slice(0, 10);
    try {
      const { main } = await preflight(job({ 'api-key': t.s.admin.apiKey, 'service-user-id': 'me' }));
      expect(main.exitCode, main.log.join('\n')).toBe(0);
      expect(main.log).toContain('[PASS] target user: `me`: the bootstrap (a standard user) mints for itself.');
      expect(lines(main, 'Warning: [WARN] bootstrap user')[0]).toMatch(/stops working on \d{4}-\d{2}-\d{2} at 23:59:59 UTC \(in [23] days\)/);
    } finally {
      delete admin.end_date;
    }
  });

  it("service-user-id naming the bootstrap service user itself (not `me`): fails like `me`, before the real run's 403 (issue 26)", async () => {
    const { main } = await preflight(job({ 'service-user-id': t.s.bootstrap.user.id }));
    expect(main.exitCode, main.log.join('\n')).toBe(1);
    expect(lines(main, '[FAIL] target user')[0]).toContain(`service-user-id ${t.s.bootstrap.user.id} is the bootstrap user itself`);
    expect(lines(main, '[FAIL] target user')[0]).toContain('service users cannot create API tokens for themselves');
    expect(lines(main, '[PASS] token rights')).toEqual([]);
  });

  it('`me` with a service user: fails, since service users cannot mint for themselves', async () => {
    const { main } = await preflight(job({ 'service-user-id': 'me' }));
    expect(main.exitCode).toBe(1);
    expect(lines(main, '[FAIL] target user')[0]).toContain('service users cannot create API tokens for themselves');
  });
});

describe('preflight: each broken set-up fails with its own line and exit code 1', () => {
  async function failing(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<StepResult> {
    const { main } = await preflight(job(inputs, extraEnv));
    expect(main.exitCode, main.log.join('\n')).toBe(1);
    expect(main.log.filter((l) => l.startsWith('Error: Preflight:'))).toHaveLength(1);
    return main;
  }

  it('wrong key', async () => {
    const main = await failing({ 'api-key': 'not-a-real-key-0123456789' });
    expect(lines(main, '[FAIL] bootstrap credential')[0]).toMatch(/returned 401 .*did not accept the bootstrap credential/);
    expect(main.log).toContain(`[PASS] host environment: ${t.emu.host} is a loopback DigiCert ONE (the emulator), production name; the key does not work on ${t.emu.demoHost} either, so it is not a key of the other environment.`);
  });

  it('key of another environment (a demo key on the production host)', async () => {
    const main = await failing({ 'api-key': t.s.demo.apiKey });
    expect(lines(main, '[FAIL] host environment')[0]).toBe(
      `[FAIL] host environment: the api-key was made in a loopback DigiCert ONE (the emulator), demo name (${t.emu.demoHost}), but host is ${t.emu.host}, a loopback DigiCert ONE (the emulator), production name: credentials work only in the environment they were made in (demo credentials do not work in production). Set host: ${t.emu.demoHost}, or use a key made on ${t.emu.host}.`,
    );
  });

  it('key of another environment (a production key on the demo host)', async () => {
    const main = await failing({ host: t.emu.demoHost });
    expect(lines(main, '[FAIL] host environment')[0]).toContain(`Set host: ${t.emu.host}`);
  });

  it('target user missing', async () => {
    const main = await failing({ 'service-user-id': '00000000-0000-4000-8000-000000000000' });
    expect(lines(main, '[FAIL] target user')[0]).toContain('service-user-id 00000000-0000-4000-8000-000000000000 does not exist on');
  });

  it('bootstrap without rights on the target', async () => {
    const main = await failing({ 'api-key': t.s.powerless.apiKey });
    expect(lines(main, '[FAIL] token rights')[0]).toMatch(/returned 403 .*may not list the API tokens of user/);
  });

  it('unknown role', async () => {
    const main = await failing({ 'service-user-id': '', scope: 'Software Trust: Signer, Releaser' });
    expect(main.log).toContain('[PASS] role Software Trust: Signer: resolves to SSM_SIGNER, and the bootstrap holds all 3 of its permissions.');
    expect(lines(main, '[FAIL] role Software Trust: Releaser')[0]).toContain("Software Trust has no role 'Releaser'. Roles there: Lead (SSM_LEAD), Developer (SSM_DEVELOPER), Team Lead (SSM_TEAM_LEAD), Signer (SSM_SIGNER), Build Engineer (SSM_BUILD_ENGINEER).");
  });

  it('role the bootstrap does not hold', async () => {
    const main = await failing({ 'service-user-id': '', scope: 'Software Trust: Lead' });
    expect(lines(main, '[FAIL] role Software Trust: Lead')[0]).toContain("does not hold role 'Lead' (it lacks MANAGE_SM_KEYPAIR, MANAGE_SM_CERTIFICATE)");
  });

  it('expired client certificate', async () => {
    const old = t.emu.issueClientCert(t.s.bootstrap.user.id, { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - 2 * DAY) });
    const main = await failing({ 'api-key': '', 'client-certificate': toP12Base64(old, 'pw-old'), 'client-certificate-password': 'pw-old' });
    expect(lines(main, '[FAIL] client certificate')[0]).toMatch(/^\[FAIL\] client certificate: Input 'client-certificate': the client certificate expired on .* \(notAfter\)/);
  });

  it('proxy refusing the tunnel', async () => {
    const proxy = await ConnectProxy.start({ refuse: 403 });
    proxies.push(proxy);
    const main = await failing({}, { HTTPS_PROXY: proxy.url });
    expect(lines(main, '[FAIL] proxy')[0]).toContain('the proxy (HTTPS_PROXY) refused to open a tunnel');
    expect(lines(main, '[SKIP] bootstrap credential')).toHaveLength(1);
  });

  it('a client certificate the host does not trust: refused in the handshake, named as such', async () => {
    const stranger = makeCert({ commonName: 'ci-bootstrap', clientAuth: true, notAfter: new Date(Date.now() + 30 * DAY) });
    const main = await failing({ 'api-key': '', 'client-certificate': toP12Base64(stranger, 'pw-stranger'), 'client-certificate-password': 'pw-stranger' });
    expect(lines(main, '[FAIL] client certificate accepted')[0]).toContain('refused the client certificate in the TLS handshake');
  });

  it("server text in a [FAIL] line cannot issue a workflow command or break the line", async () => {
    // A hostile code is dropped at the wire boundary (not a code); hostile message text is shown, neutralised.
    t.emu.fault({ path: /\/api-access-token$/, kind: 'status', status: 403, body: { errors: [{ code: 'denied\n::error::x', message: 'denied\n::error::forged%0A##[group]forged' }] } });
    const main = await failing({});
    const line = lines(main, '[FAIL] token rights')[0]!;
    expect(line).toContain('denied ::error::forged%0A## [group]forged');
    expect(main.stdout.split('\n').filter((l) => /^\s*::error::forged|##\[group\]/.test(l))).toEqual([]);
    expect(main.log.filter((l) => l.startsWith('Error: forged'))).toEqual([]);
  });
});

