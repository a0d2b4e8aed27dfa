/**
 * Hostile answers and a hostile environment (issue 12), driven through the runner model (harness/runner.ts, which
 * parses commands as actions/runner does: `::` at a line start, `##[` anywhere, stop-commands, masks on both
 * streams). For every endpoint the action calls and every field it reads, a hostile value must produce:
 * - no workflow command the action did not mean to issue, and no forged annotation;
 * - no secret (bootstrap or minted) visible anywhere the runner keeps;
 * - nothing the action made left live after post, and nothing that existed before gone;
 * - an end within the step's time budget;
 * - no Markdown or HTML of the server's rendering in the job summary.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../emulator/server.js';
import { scanJob } from '../harness/leaks.js';
import type { RunnerJob, StepResult } from '../harness/runner.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

/** Every trick at once: a line break into a forged annotation, a mid-line legacy command, stop-commands, Markdown, HTML. */
const EVIL = 'PWN\n::warning file=PWN.ts,line=1::PWN forged\r\n::error::PWN\n##[stop-commands]PWNSTOP ##[add-mask]PWN [Re-run](https://evil.example) <img src=x onerror=alert(1)>';
const TIMEOUT_S = 10;
const API = '/account/api/v1';

/** A long-lived credential of the tenant that no fault may take away. */
let longLived: { id: string; secret: string };
beforeEach(() => {
  for (const tok of t.emu.model.liveTokens()) if (tok.name.startsWith('gha_')) tok.deleted = true;
  for (const u of [...t.emu.model.users.values()]) if (u.friendly_name.startsWith('gha_')) t.emu.model.users.delete(u.id);
  const existing = [...t.emu.model.tokens.values()].find((x) => x.name === 'long lived signer' && !x.deleted);
  const tok = existing ?? t.emu.model.addToken(t.s.signer.id, 'long lived signer', undefined);
  longLived = { id: tok.id, secret: tok.secret };
});

/** Commands the action means to issue: masks, and annotations without properties that it wrote itself. */
function foreignCommands(steps: StepResult[]): string[] {
  const bad: string[] = [];
  for (const s of steps) {
    for (const c of s.commands) {
      const text = `${s.phase}: ${c.name} ${JSON.stringify(c.properties)} ${c.data.slice(0, 60)}`;
      if (!['add-mask', 'warning', 'error', 'debug', 'notice'].includes(c.name)) bad.push(text);
      else if (Object.keys(c.properties).length) bad.push(text);
      else if (/^\s*PWN/.test(c.data)) bad.push(text);
      else if (c.name === 'add-mask' && c.data.includes('PWN')) bad.push(text);
    }
    for (const a of s.annotations) if (Object.keys(a.properties).length || /^\s*PWN/.test(a.message)) bad.push(`${s.phase} annotation: ${a.level} ${a.message.slice(0, 60)}`);
  }
  return bad;
}

interface Case {
  name: string;
  inputs?: Record<string, string>;
  faults: Fault[];
  /** The outcome of main, when a hostile answer cannot be worked around. */
  mainFails?: boolean;
  /** DigiCert ONE refuses the revocation itself: the credential stays live, and post says how to finish. */
  revokeRefused?: boolean;
}

const rewrite = (method: string, path: RegExp, body: (b: unknown) => unknown, extra: Partial<Extract<Fault, { kind: 'rewrite' }>> = {}): Fault => ({ method, path, kind: 'rewrite', body, times: 10, ...extra });
const setField = (field: string, value: unknown) => (b: unknown) => ({ ...(b as object), [field]: value });
const setInItems = (field: string, value: unknown) => (b: unknown) => (b as Record<string, unknown>[]).map((x) => ({ ...x, [field]: value }));
/** A refusal with hostile text: answered before anything is carried out, as a real 4xx/5xx would be. */
const refuse = (method: string, path: RegExp, status: number, times = 10): Fault => ({ method, path, kind: 'status', status, body: { errors: [{ code: EVIL, message: EVIL }] }, times });

const TOKEN = /\/api-access-token$/;
const TOKEN_ID = /\/api-access-token\/[^/]+$/;
const USERS = /\/user$/;
const USER_ID = /\/user\/[^/]+$/;

const cases: Case[] = [
  // POST /api-access-token: every field it reads, and its errors
  { name: 'create token: id', faults: [rewrite('POST', TOKEN, setField('id', EVIL))], mainFails: true },
  { name: 'create token: token', faults: [rewrite('POST', TOKEN, setField('token', EVIL))], mainFails: true },
  { name: 'create token: end_date', faults: [rewrite('POST', TOKEN, setField('end_date', EVIL))] },
  { name: 'create token: name and user_id (not read)', faults: [rewrite('POST', TOKEN, (b) => ({ ...(b as object), name: EVIL, user_id: EVIL }))] },
  { name: 'create token: 400 error text', faults: [refuse('POST', TOKEN, 400)], mainFails: true },
  { name: 'create token: 500 error text (maybe made)', faults: [refuse('POST', TOKEN, 500, 3)], mainFails: true },
  { name: 'create token: non-JSON body', faults: [{ method: 'POST', path: TOKEN, kind: 'status', status: 502, raw: EVIL, times: 3 }], mainFails: true },
  { name: 'create token: Retry-After', faults: [{ method: 'POST', path: TOKEN, kind: 'status', status: 503, retryAfter: '##[stop-commands]PWNSTOP', times: 1 }] },
  // GET /api-access-token?user_id= (name check of a given token-name-prefix, cleanup-stale)
  { name: 'list tokens: name', inputs: { 'token-name-prefix': 'release run', 'cleanup-stale': 'true' }, faults: [rewrite('GET', TOKEN, setInItems('name', EVIL))] },
  { name: 'list tokens: id', inputs: { 'cleanup-stale': 'true' }, faults: [rewrite('GET', TOKEN, setInItems('id', EVIL))] },
  { name: 'list tokens: end_date and created_at', inputs: { 'cleanup-stale': 'true' }, faults: [rewrite('GET', TOKEN, (b) => setInItems('created_at', EVIL)(setInItems('end_date', EVIL)(b)))] },
  { name: 'list tokens: error text', inputs: { 'cleanup-stale': 'true' }, faults: [refuse('GET', TOKEN, 403)], mainFails: true },
  // DELETE /api-access-token/{id}
  { name: 'revoke token: error text', faults: [refuse('DELETE', TOKEN_ID, 403)], revokeRefused: true },
  // GET /user/me
  { name: 'me: id', inputs: { 'expiry-warning-days': '30' }, faults: [rewrite('GET', USER_ID, setField('id', EVIL))] },
  { name: 'me: status, end_date, primary account, permissions', inputs: { scope: 'Software Trust: Signer' }, faults: [rewrite('GET', USER_ID, (b) => ({ ...(b as object), status: EVIL, end_date: EVIL, primary_account_id: EVIL, applications: [{ permissions: [EVIL] }] }))], mainFails: true },
  // GET /role, GET /account (scope)
  { name: 'roles: name and id', inputs: { scope: 'Software Trust: Nope' }, faults: [rewrite('GET', /\/role$/, (b) => (b as Record<string, unknown>[]).map((r, i) => ({ ...r, name: EVIL, ...(i === 0 ? { id: EVIL } : {}) })))], mainFails: true },
  { name: 'roles: name of the role granted', inputs: { scope: 'Software Trust: SSM_SIGNER' }, faults: [rewrite('GET', /\/role$/, setInItems('name', EVIL))] },
  { name: 'accounts: name and id', inputs: { scope: 'Software Trust: Signer', accounts: 'acct-nope' }, faults: [rewrite('GET', /\/account$/, (b) => (b as Record<string, unknown>[]).map((a, i) => ({ ...a, name: EVIL, ...(i === 0 ? { id: EVIL } : {}) })))], mainFails: true },
  // POST /user (scope)
  { name: 'create user: id', inputs: { scope: 'Software Trust: Signer' }, faults: [rewrite('POST', USERS, setField('id', EVIL))], mainFails: true },
  { name: 'create user: token', inputs: { scope: 'Software Trust: Signer' }, faults: [rewrite('POST', USERS, setField('api_token', EVIL))], mainFails: true },
  { name: 'create user: end_date and friendly_name', inputs: { scope: 'Software Trust: Signer' }, faults: [rewrite('POST', USERS, (b) => ({ ...(b as object), end_date: EVIL, friendly_name: EVIL }))] },
  { name: 'create user: error text', inputs: { scope: 'Software Trust: Signer' }, faults: [refuse('POST', USERS, 400)], mainFails: true },
  // GET /user?user_type=service (cleanup-stale with scope)
  { name: 'list users: friendly_name, id, dates', inputs: { scope: 'Software Trust: Signer', 'cleanup-stale': 'true' }, faults: [rewrite('GET', USERS, (b) => (b as Record<string, unknown>[]).map((u, i) => ({ ...u, friendly_name: EVIL, end_date: EVIL, created_at: EVIL, ...(i === 0 ? { id: EVIL } : {}) })))] },
  // DELETE /user/{id}
  { name: 'delete user: error text', inputs: { scope: 'Software Trust: Signer' }, faults: [refuse('DELETE', USER_ID, 500, 20)], revokeRefused: true },
];

async function runCase(c: Case): Promise<{ j: RunnerJob; main: StepResult; post: StepResult }> {
  const inputs = { 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'timeout-seconds': String(TIMEOUT_S), ...(c.inputs?.scope ? {} : { 'service-user-id': t.s.signer.id }), ...c.inputs };
  const j = env.job(inputs);
  for (const f of c.faults) t.emu.fault(f);
  const main = await j.main();
  const post = await j.post();
  t.emu.faults.length = 0;
  return { j, main, post };
}

describe('a hostile value in every field of every answer', () => {
  it.each(cases)('$name', async (c) => {
    const { j, main, post } = await runCase(c);
    expect(main.exitCode, main.log.join('\n')).toBe(c.mainFails ? 1 : 0);
    expect(post.exitCode).toBe(0);
    // No command the action did not mean to issue; in particular no stop-commands, so every later mask held.
    expect(foreignCommands([main, post])).toEqual([]);
    // No secret anywhere the runner keeps (the minted token only as the `token` output).
    const secrets: Record<string, string> = { bootstrap: t.s.bootstrap.apiKey, longLived: longLived.secret };
    if (main.outputs.token) secrets.minted = main.outputs.token;
    expect(scanJob(j, secrets, { allowInOutput: { token: 'minted' } })).toEqual([]);
    // Nothing the action made is live; what existed before is still there.
    const stillLive = t.emu.model.liveTokens().filter((x) => x.name.startsWith('gha_')).length + [...t.emu.model.users.values()].filter((u) => u.friendly_name.startsWith('gha_')).length;
    if (c.revokeRefused) {
      expect(post.annotations.filter((a) => a.level === 'warning').length).toBeGreaterThan(0);
    } else {
      if (main.outputs.token) expect(await statusWith(t.emu, main.outputs.token)).toBe(401);
      expect(stillLive, post.log.join('\n')).toBe(0);
    }
    expect(await statusWith(t.emu, longLived.secret)).toBe(200);
    expect(await statusWith(t.emu, t.s.bootstrap.apiKey)).toBe(200);
    expect(t.emu.model.users.has(t.s.signer.id)).toBe(true);
    // In time, and nothing of the server's renders in the summary.
    expect(main.wallMs).toBeLessThan((TIMEOUT_S + 5) * 1000);
    for (const s of [main.summary, post.summary]) expect(s).not.toMatch(/<img|\]\(https?:|^\s*::/m);
  });

  it('where revocation itself is refused with hostile text, post warns without a forged command and says how to finish', async () => {
    const { main, post } = await runCase(cases.find((c) => c.name === 'revoke token: error text')!);
    expect(post.annotations.map((a) => a.level)).toEqual(['warning']);
    expect(post.annotations[0]!.message).toContain(`curl -X DELETE -H "x-api-key: $D1_ADMIN_API_KEY" https://${t.emu.host}${API}/api-access-token/${main.outputs['token-id']}`);
    t.emu.model.tokens.get(main.outputs['token-id']!)!.deleted = true;
  });
});

describe('issue 12 findings, each reproduced', () => {
  const base = () => ({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id });

  it('1. Retry-After: ##[stop-commands] before the create does not unmask the token', async () => {
    const j = env.job(base());
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'status', status: 503, retryAfter: '##[stop-commands]zz' });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(main.commands.some((c) => c.name === 'stop-commands')).toBe(false);
    expect(main.log.join('\n')).not.toContain(main.outputs.token!);
    await j.post();
  });

  it('1. a line break in a name or id forges no annotation in main or post; the summary renders none of it', async () => {
    const j = env.job(base());
    t.emu.fault(rewrite('POST', TOKEN, (b) => ({ ...(b as object), name: `x\n::warning file=evil.ts::forged\n[Re-run here](https://evil.example) <img src=x>` }), { times: 1 }));
    const main = await j.main();
    const post = await j.post();
    expect(foreignCommands([main, post])).toEqual([]);
    // The one annotation is the action's own: the answer's name is not a name, so it is reported as not confirmed.
    expect([...main.annotations, ...post.annotations].map((a) => `${a.level}: ${a.message}`)).toEqual([expect.stringMatching(/^warning: DigiCert ONE did not confirm the token's name \(no 'name' in the answer/)]);
    expect(main.summary).not.toContain('](https://evil.example)');
  });

  it('2. an end date the action cannot read (epoch ms, US format) does not skip the revocation, and is reported as not confirmed (issue 26)', async () => {
    for (const odd of ['1795564799000', '11/24/2026']) {
      const j = env.job(base());
      t.emu.fault(rewrite('POST', TOKEN, setField('end_date', odd), { times: 1 }));
      const main = await j.main();
      // Not the end date the action asked for: DigiCert ONE did not confirm one the action can read.
      expect(main.outputs['expires-at']).toBe('');
      expect(main.annotations.map((a) => a.message)).toEqual([expect.stringMatching(/did not confirm the token's end date .*only revocation bounds its life now/)]);
      const post = await j.post();
      expect(post.log.some((l) => l.startsWith('Revoked token')), post.log.join('\n')).toBe(true);
      expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
    }
  });

  it('3. scope with token-name-prefix equal to a long-lived service user, and a 500 on the create: that user survives', async () => {
    const keeper = t.emu.model.addUser({ friendly_name: 'release keeper', applications: [] });
    const keeperToken = t.emu.model.addToken(keeper.id, 'keeper key', undefined);
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, scope: 'Software Trust: Signer', 'token-name-prefix': 'release keeper' });
    t.emu.fault({ method: 'POST', path: USERS, kind: 'status', status: 500 });
    const main = await j.main();
    await j.post();
    // The name is this step's own (release keeper_<random>): the lookup after the 500 finds nothing, the create is
    // sent again and succeeds; the keeper is never mistaken for what this step made.
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    expect(t.emu.model.users.has(keeper.id)).toBe(true);
    expect(await statusWith(t.emu, keeperToken.secret)).toBe(200);
    t.emu.model.users.delete(keeper.id);
  });

  it("3. two jobs with one fixed token-name-prefix, a 500 on the second's create: the first's live token survives", async () => {
    const first = env.job({ ...base(), 'token-name-prefix': 'fixed name' });
    const a = await first.main();
    const second = env.job({ ...base(), 'token-name-prefix': 'fixed name' });
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'status', status: 500 });
    await second.main();
    await second.post();
    expect(await statusWith(t.emu, a.outputs.token!)).toBe(200);
    t.emu.faults.length = 0;
    await first.post();
    expect(await statusWith(t.emu, a.outputs.token!)).toBe(401);
  });

  it("issue 18, finding 4: two jobs with one token-name-prefix, the other job's create between this one's steps and a lost answer: the other's token survives", async () => {
    let other: { id: string; secret: string } | undefined;
    // The other job creates its token right after this job's first listing (it would have seen the name free).
    t.emu.fault({ method: 'GET', path: TOKEN, kind: 'rewrite', times: 1, body: (b) => {
      other = t.emu.model.addToken(t.s.signer.id, 'fixed name', undefined);
      return b;
    } });
    // This job's create is dropped before DigiCert ONE carries it out, so it looks for what it may have made.
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'drop' });
    const j = env.job({ ...base(), 'token-name-prefix': 'fixed name' });
    const main = await j.main();
    await j.post();
    expect(other).toBeDefined();
    expect(await statusWith(t.emu, other!.secret), main.log.join('\n')).toBe(200);
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    // The name is the workflow's, made this step's own.
    expect(main.outputs['token-name']).toMatch(/^fixed name_[0-9a-f]{6}$/);
    t.emu.model.tokens.get(other!.id)!.deleted = true;
  });

  it('issue 18, finding 6: a create answer of 80,000 field names (under the 1 MiB cap) ends well within timeout-seconds', async () => {
    const fields = Object.fromEntries(Array.from({ length: 80_000 }, (_, i) => [`f${i}`, 0]));
    expect(JSON.stringify(fields).length).toBeLessThan(1024 * 1024);
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'rewrite', body: () => fields });
    const j = env.job({ ...base(), 'timeout-seconds': '3' });
    const main = await j.main();
    await j.post();
    expect(main.exitCode).toBe(1);
    // The error names some fields and counts the rest; reading them took no noticeable time.
    expect(main.log.join('\n')).toMatch(/fields present: f0, f1, .*\(\+79960 more\)/);
    expect(main.wallMs).toBeLessThan(3000);
  });

  it('4. a key echoed across the old cut, or in base64, is not printed', async () => {
    const key = t.s.bootstrap.apiKey;
    for (const raw of [`${'x'.repeat(190)}${key} trailing`, `echo ${Buffer.from(key).toString('base64')}`]) {
      const j = env.job(base());
      t.emu.fault({ method: 'POST', path: TOKEN, kind: 'status', status: 400, raw });
      const main = await j.main();
      expect(main.exitCode).toBe(1);
      const log = main.log.join('\n');
      expect(log).not.toContain(key.slice(0, 8));
      expect(log).not.toContain(Buffer.from(key).toString('base64').slice(0, 16));
      await j.post();
    }
  });

  it('6. STATE_* supplied by the job environment does not steer post', async () => {
    const victim = t.emu.model.addUser({ friendly_name: 'victim user', applications: [] });
    const j = env.job(base(), { STATE_kind: 'service-user', 'STATE_service-user-id': victim.id, STATE_credentials: JSON.stringify([{ kind: 'service-user', id: victim.id, name: 'victim user', userId: victim.id, endDate: '2099-01-01' }]) });
    const main = await j.main();
    expect(main.exitCode, main.log.join('\n')).toBe(0);
    await j.post();
    expect(t.emu.model.users.has(victim.id)).toBe(true);
    expect(await statusWith(t.emu, main.outputs.token!)).toBe(401);
    t.emu.model.users.delete(victim.id);
  });

  it('7. a 201 with the token under an unknown key: the service user made is not left live', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, scope: 'Software Trust: Signer' });
    t.emu.fault(rewrite('POST', USERS, (b) => {
      const { api_token, ...rest } = b as Record<string, unknown>;
      return { ...rest, credential_value: api_token };
    }, { times: 1 }));
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('fields present:');
    await j.post();
    expect([...t.emu.model.users.values()].filter((u) => u.friendly_name.startsWith('gha_'))).toEqual([]);
  });

  it('8. an 8 MiB error message becomes a bounded line; a 2 MiB answer is not read, and what it made is deleted', async () => {
    const j = env.job(base());
    t.emu.fault({ method: 'POST', path: TOKEN, kind: 'status', status: 400, body: { errors: [{ code: 'invalid_request', message: 'm'.repeat(8 * 1024 * 1024) }] } });
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(Math.max(...main.log.map((l) => l.length))).toBeLessThan(5000);
    await j.post();

    const k = env.job(base());
    t.emu.fault(rewrite('POST', TOKEN, (b) => ({ ...(b as object), padding: 'p'.repeat(2 * 1024 * 1024) }), { times: 1 }));
    const m2 = await k.main();
    expect(m2.exitCode).toBe(1);
    expect(m2.log.find((l) => l.startsWith('Error:'))).toContain('(a body over 1 MiB, not read)');
    await k.post();
    expect(t.emu.model.liveTokens().filter((x) => x.name.startsWith('gha_'))).toEqual([]);
  });
});
