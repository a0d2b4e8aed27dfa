/**
 * The bundled action (dist/index.js), run main then post through the runner harness against the emulator.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunnerJob } from '../harness/runner.js';
import { maskedBeforeUse, scanJob } from '../harness/leaks.js';
import { D1Emulator } from '../emulator/server.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const tenantEnv = useTenant();
let t: Tenant;
beforeAll(() => void (t = tenantEnv.tenant));
const job = tenantEnv.job;

function requestsSince(n: number) {
  return t.emu.requests.slice(n);
}

describe('mint and revoke with an API token bootstrap', () => {
  it('mints a working token, masks it first, leaks it nowhere, and the post step kills it', async () => {
    const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);

    const token = main.outputs.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(main.outputs['token-id']).toBeTruthy();
    expect(main.outputs['user-id']).toBe(t.s.signer.id);
    expect(main.outputs['token-name']).toMatch(/^gha_octo-org_release-tools_9876543210_1_sign_[0-9a-f]{6}$/);
    expect(main.outputs['expires-at']).toMatch(/^\d{4}-\d{2}-\d{2}T23:59:59Z$/);
    // Every output action.yml declares is set (empty where it does not apply) and no other, so a rename cannot drift.
    const declared = Object.keys((parse(readFileSync('action.yml', 'utf8')) as { outputs: object }).outputs);
    expect(Object.keys(main.outputs).sort()).toEqual(declared.sort());

    // One request: the create, for the named user.
    const mainReqs = requestsSince(before);
    expect(mainReqs.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /account/api/v1/api-access-token 201']);
    const create = mainReqs.find((r) => r.method === 'POST')!;
    expect(create.tokenId).toBe(t.s.bootstrap.tokenId);
    expect(create.body).toMatchObject({ name: main.outputs['token-name'], user_id: t.s.signer.id });
    expect(create.userAgent).toMatch(/^d1-token-action\//);

    // The token is masked before any other line could show it, and the log shows only ***.
    expect(maskedBeforeUse(main.stdout, token)).toBe(true);
    expect(maskedBeforeUse(main.stdout, t.s.bootstrap.apiKey)).toBe(true);
    expect(main.log.join('\n')).toContain(main.outputs['token-id']);

    // State carries ids and the host only; the summary names the token but holds no secret.
    expect(Object.keys(main.state).sort()).toEqual(['broker', 'credentials', 'host', 'network']);
    expect(JSON.parse(main.state.credentials!)).toEqual([
      { kind: 'api-token', id: main.outputs['token-id'], name: main.outputs['token-name'], userId: t.s.signer.id, endDate: main.outputs['expires-at']!.slice(0, 10) },
    ]);
    expect(main.summary).toContain(main.outputs['token-id']);

    // A later step can use it.
    expect(await statusWith(t.emu, token)).toBe(200);
    expect(t.emu.model.liveTokens().some((x) => x.id === main.outputs['token-id'])).toBe(true);

    const beforePost = t.emu.requests.length;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(requestsSince(beforePost).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `DELETE /account/api/v1/api-access-token/${main.outputs['token-id']} 204`,
    ]);
    expect(post.log.join('\n')).toContain(`Revoked token '${main.outputs['token-name']}'`);
    expect(post.summary).toContain('Revoked in post step: yes');
    expect(await statusWith(t.emu, token)).toBe(401);
    expect(t.emu.model.liveTokens().some((x) => x.id === main.outputs['token-id'])).toBe(false);

    // Nothing left behind, no secret anywhere the runner keeps (the token only as the `token` output).
    expect(j.runnerTempFiles()).toEqual([]);
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('with expiry-warning-days set, main also reads the bootstrap user, alongside the create', async () => {
    const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '30' });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(requestsSince(before).map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /account/api/v1/user/me', 'POST /account/api/v1/api-access-token']);
    expect(main.log.some((l) => l.startsWith('Warning'))).toBe(false); // the seeded bootstrap user has no end date
    await j.post();
  });

  it('warns when the bootstrap user ends within expiry-warning-days', async () => {
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const u = t.emu.model.addUser({ friendly_name: 'ending-bootstrap', end_date: soon, applications: t.s.bootstrap.user.applications });
    const key = t.emu.model.addToken(u.id, 'ending', undefined).secret;
    const j = job({ 'api-key': key, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '14' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.log).toContain(`Warning: The bootstrap user ${u.id} stops working on ${soon} at 23:59:59 UTC (in 3 days). Extend its end date or rotate it before then.`);
    await j.post();
    expect(scanJob(j, { bootstrap: key, minted: main.outputs.token! }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('with service-user-id `me`, an administrator token mints for itself in two requests', async () => {
    const j = job({ 'api-key': t.s.admin.apiKey, host: `https://${t.emu.host}/`, 'service-user-id': 'me' });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(requestsSince(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /account/api/v1/user/me', 'POST /account/api/v1/api-access-token']);
    expect(main.outputs['user-id']).toBe(t.s.admin.user.id);
    await j.post();
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
  });

  it('export-env hands the minted token (never the bootstrap secret) to later steps', async () => {
    const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'export-env': 'true' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    const token = main.outputs.token!;
    expect(main.env).toEqual({
      DC_API_KEY: token,
      SM_API_KEY: token,
      DC_BASE: `https://${t.emu.host}`,
      SM_HOST: `https://clientauth.${t.emu.host}`,
    });
    await j.post();
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' }, allowInEnv: ['minted'] })).toEqual([]);
    expect(await statusWith(t.emu, token)).toBe(401);
  });

  it('DC_BASE in the job environment does not decide where the bootstrap key goes (issue 12 finding 5, issue 18)', async () => {
    // Any earlier step can write DC_BASE to GITHUB_ENV. A second emulator stands in for the host it names.
    const other = await D1Emulator.start();
    try {
      const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id }, { DC_BASE: `https://${other.host}` });
      const main = await j.main();
      expect(main.exitCode, main.log.join('\n')).toBe(0);
      await j.post();
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('skip-revoke leaves the token live and says so', async () => {
    const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'skip-revoke': 'true' });
    const main = await j.main();
    const before = t.emu.requests.length;
    const post = await j.post();
    expect(requestsSince(before)).toEqual([]);
    expect(post.log.join('\n')).toContain('skip-revoke is set');
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(200);
    t.emu.model.tokens.get(main.outputs['token-id']!)!.deleted = true; // tidy the shared tenant
  });
});

describe('post step', () => {
  async function minted(extra: Record<string, string> = {}): Promise<{ j: RunnerJob; id: string; token: string }> {
    const j = job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, ...extra });
    const main = await j.main();
    expect(main.exitCode).toBe(0);
    return { j, id: main.outputs['token-id']!, token: main.outputs.token! };
  }

  it('treats 404 as already revoked', async () => {
    const { j, id } = await minted();
    t.emu.model.tokens.get(id)!.deleted = true;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.log.join('\n')).toContain('was already deleted');
  });

  it('warns with the id and a delete command when revocation fails, without failing the job', async () => {
    const { j, id, token } = await minted({ 'timeout-seconds': '2' });
    t.emu.fault({ method: 'DELETE', path: /api-access-token/, kind: 'status', status: 500, times: 100 });
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    const log = post.log.join('\n');
    expect(log).toMatch(new RegExp(`Warning: Could not revoke token '.*' \\(id ${id}\\).*returned 500`));
    expect(log).toContain(`curl -X DELETE -H "x-api-key: $D1_ADMIN_API_KEY" https://${t.emu.host}/account/api/v1/api-access-token/${id}`);
    expect(post.summary).toContain(`FAILED; delete token id ${id}`);
    expect(scanJob(j, { bootstrap: t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
    t.emu.faults.length = 0;
    t.emu.model.tokens.get(id)!.deleted = true;
  });

  it('does nothing when main minted nothing', async () => {
    const j = job({ 'api-key': '', host: t.emu.host, 'service-user-id': t.s.signer.id });
    await j.main();
    const before = t.emu.requests.length;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(requestsSince(before)).toEqual([]);
    expect(post.log.join('\n')).toContain('Nothing to revoke');
  });
});

describe('failures give actionable messages and print no secret', () => {
  async function failing(inputs: Record<string, string>, env: Record<string, string> = {}) {
    const j = job(inputs, env);
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    const error = main.log.find((l) => l.startsWith('Error: ')) ?? '';
    const live = t.emu.model.liveTokens().length;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(t.emu.model.liveTokens().length).toBe(live);
    return { j, main, error, requests: requestsSince(before) };
  }

  it('missing api-key (and no client-certificate): names both inputs, sends nothing', async () => {
    const r = await failing({ host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain("Inputs 'api-key' and 'client-certificate': one is required: pass the bootstrap API token");
    expect(r.requests).toEqual([]);
  });

  it('blank api-key counts as missing', async () => {
    const r = await failing({ 'api-key': '   \n ', host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain("Inputs 'api-key' and 'client-certificate': one is required");
  });

  it('api-key with white space inside: explains, without echoing it', async () => {
    const key = `${t.s.bootstrap.apiKey} extra`;
    const r = await failing({ 'api-key': key, host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain("Input 'api-key': contains white space");
    expect(r.main.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(t.s.bootstrap.apiKey);
  });

  it.each([
    ['http://one.digicert.com', 'HTTPS only'],
    ['https://one.digicert.com/account/api/v1', 'without a path'],
    ['one digicert com', 'is not a host name'],
    ['clientauth.one.digicert.com', "host without 'clientauth.'"],
  ])('malformed host %s', async (host, says) => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain("Input 'host':");
    expect(r.error).toContain(says);
    expect(r.requests).toEqual([]);
  });

  it('missing service-user-id: says why DigiCert ONE needs it', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host });
    expect(r.error).toContain("Input 'service-user-id': is required: DigiCert ONE service users cannot create API tokens for themselves");
  });

  it('401 for an unknown bootstrap token', async () => {
    const bad = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA';
    const r = await failing({ 'api-key': bad, host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain('returned 401 (invalid_api_key');
    expect(r.error).toContain('demo credentials do not work in production');
    expect(scanJob(r.j, { bootstrap: bad })).toEqual([]);
  });

  it('401 for a bootstrap user past its end date', async () => {
    const u = t.emu.model.addUser({ friendly_name: 'expired-bootstrap', end_date: '2020-01-01', applications: t.s.bootstrap.user.applications });
    const key = t.emu.model.addToken(u.id, 'old', undefined).secret;
    const r = await failing({ 'api-key': key, host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain('returned 401 (invalid_api_key: User has passed its end date)');
    expect(r.error).toContain('not past its end date');
  });

  it('403 when the bootstrap user may not manage users', async () => {
    const r = await failing({ 'api-key': t.s.powerless.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });
    expect(r.error).toContain('returned 403 (access_denied');
    // The permission and the role that holds it (docs.digicert.com "Account Manager user roles"), not "Manager or Account Admin".
    expect(r.error).toContain("needs Account Manager's Manage users permission");
    expect(r.error).toContain('User Manager role');
    expect(r.error).not.toContain('Manager or Account Admin');
  });

  it('403 when the target service user is in an account the bootstrap cannot reach', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.outsider.id });
    expect(r.error).toContain(`No access to the account of user ${t.s.outsider.id}`);
  });

  it('403 when a service user asks for a token for itself', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': 'me' });
    expect(r.requests.map((q) => q.method)).toEqual(['GET', 'POST']);
    expect(r.error).toContain('Service users cannot create or manage API tokens for themselves');
  });

  it('404 for an unknown service user', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': '00000000-0000-4000-8000-000000000000' });
    expect(r.error).toContain('returned 404');
    expect(r.error).toContain('ids differ between demo and production');
  });

  it('5xx from DigiCert ONE that lasts past the time budget', async () => {
    t.emu.fault({ method: 'POST', kind: 'status', status: 502, times: 100 });
    try {
      const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'timeout-seconds': '2' });
      expect(r.error).toContain('returned 502');
      expect(r.error).toContain('failed on its side');
    } finally {
      t.emu.faults.length = 0;
    }
  });

  it('unreachable host', async () => {
    const r = await failing({ 'api-key': t.s.bootstrap.apiKey, host: 'localhost:1', 'service-user-id': t.s.signer.id, 'timeout-seconds': '2' });
    expect(r.error).toContain('localhost:1 refused the connection');
    expect(r.error).toMatch(/Gave up after \d+ attempts/);
    expect(scanJob(r.j, { bootstrap: t.s.bootstrap.apiKey })).toEqual([]);
  });
});

describe('names', () => {
  it('two jobs with one token-name-prefix: each gets that name with its own random tail, one create each, and each post revokes only its own', async () => {
    const inputs = { 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'token-name-prefix': 'release signing' };
    const first = job(inputs);
    const second = job(inputs);
    const before = t.emu.requests.length;
    const [a, b] = [await first.main(), await second.main()];
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    // No name check before the create any more: a name of this step's own needs none.
    expect(t.emu.requests.slice(before).map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(a.outputs['token-name']).toMatch(/^release signing_[0-9a-f]{6}$/);
    expect(b.outputs['token-name']).toMatch(/^release signing_[0-9a-f]{6}$/);
    expect(a.outputs['token-name']).not.toBe(b.outputs['token-name']);
    await second.post();
    expect(await statusWith(t.emu, a.outputs.token!)).toBe(200);
    expect(await statusWith(t.emu, b.outputs.token!)).toBe(401);
    await first.post();
    expect(await statusWith(t.emu, a.outputs.token!)).toBe(401);
  });
});
