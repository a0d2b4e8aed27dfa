/**
 * The emulator checks what it is sent (emulator/strict.ts). The proof that it catches a wrong field name: the wire
 * module's request builders are wrapped so that one key can be renamed (as a slip in src/d1/wire.ts would), and the
 * action's own client, opened as the contract suite opens it, then gets a 400 naming that key. Without a rename the
 * same calls pass; with the lenient emulator the renamed end date goes unnoticed, which is why strict is the default.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { D1Error } from '../src/d1/client.js';
import type { Id, Name, UtcDay } from '../src/d1/wire.js';
import { openTarget, type ContractTarget } from './contract/target.js';
import { checkBody, CREATE_TOKEN } from '../emulator/strict.js';
import { ApiError } from '../emulator/api-error.js';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';

/** Key renames applied to every body the wire module builds (from -> to); empty = the module as written. */
const renames = vi.hoisted(() => new Map<string, string>());

vi.mock('../src/d1/wire.js', async (importOriginal) => {
  const wire = await importOriginal<typeof import('../src/d1/wire.js')>();
  const rename = <T extends object>(body: T): T => Object.fromEntries(Object.entries(body).map(([k, v]) => [renames.get(k) ?? k, v])) as T;
  const wrap =
    <A extends unknown[], R extends object>(f: (...a: A) => R) =>
    (...a: A): R =>
      rename(f(...a));
  return {
    ...wire,
    createTokenBody: wrap(wire.createTokenBody),
    createServiceUserBody: wrap(wire.createServiceUserBody),
    createClientCertBody: wrap(wire.createClientCertBody),
    enableClientCertBody: wrap(wire.enableClientCertBody),
  };
});

const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10) as UtcDay;

async function failure(p: Promise<unknown>): Promise<D1Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof D1Error) return e;
    throw e;
  }
  throw new Error('did not fail');
}

describe('checkBody', () => {
  it('names an unknown key, a missing required key and a wrong type; lenient ignores only unknown keys', () => {
    const ok = { name: 'n', user_id: 'u', end_date: '2030-01-01' };
    expect(checkBody(ok, CREATE_TOKEN)).toBe(ok);
    const fail = (b: unknown, strict = true) => {
      try {
        checkBody(b, CREATE_TOKEN, strict);
      } catch (e) {
        return e instanceof ApiError ? `${e.status} ${e.code} ${e.message}` : String(e);
      }
      return 'passed';
    };
    expect(fail({ name: 'n', user_id: 'u', expiration_date: '2030-01-01' })).toBe("400 invalid_request unknown field 'expiration_date'");
    expect(fail({ name: 'n', user_id: 'u', expiration_date: '2030-01-01' }, false)).toBe('passed');
    expect(fail({ user_id: 'u' }, false)).toBe("400 invalid_request missing required field 'name'");
    expect(fail({ name: 7, user_id: 'u' })).toBe("400 invalid_request field 'name' must be of type string");
    expect(fail([ok])).toBe('400 invalid_request Request body must be a JSON object');
  });
});

describe.each(['api-key', 'client-cert'] as const)('a request field renamed in wire.ts fails against the strict emulator (bootstrap by %s)', (auth) => {
  let target: ContractTarget;
  beforeAll(async () => {
    target = await openTarget({}, auth);
  });
  afterAll(async () => {
    await target?.close();
  });
  afterEach(() => renames.clear());

  it('as written, the contract calls pass', async () => {
    const c = target.client();
    const minted = await c.createToken({ userId: target.serviceUserId, name: target.name('asis'), endDate: day(1) });
    expect(await c.deleteToken(minted.id)).toBe('deleted');
  });

  it.each([
    ['end_date', 'expiration_date'],
    ['name', 'token_name'],
    ['user_id', 'userId'],
  ])('create-token %s renamed to %s: 400 naming it', async (from, to) => {
    renames.set(from, to);
    const e = await failure(target.client().createToken({ userId: target.serviceUserId, name: target.name('renamed'), endDate: day(1) }));
    expect(e.status).toBe(400);
    expect(e.message).toContain(`unknown field '${to}'`);
  });

  it.each([
    ['friendly_name', 'name'],
    ['end_date', 'expiration_date'],
    ['roles', 'role_ids'],
  ])('create-service-user %s renamed to %s: 400 naming it', async (from, to) => {
    renames.set(from, to);
    const c = target.client();
    const me = await c.getUser('me');
    const e = await failure(
      c.createServiceUser({ name: target.name('user') as Name, description: 'd', email: 'e@example.invalid', endDate: day(1), accounts: [me.primaryAccountId as Id], roles: ['SSM_SIGNER' as Id] }),
    );
    expect(e.status).toBe(400);
    expect(e.message).toContain(`unknown field '${to}'`);
  });
});

describe('lenient mode (strictBodies: false) ignores unknown keys, as a real service might', () => {
  it('a renamed end date is then silently dropped: the token has no end date at all', async () => {
    const emu = await D1Emulator.start({ strictBodies: false });
    try {
      const s = seedScenario(emu);
      renames.set('end_date', 'expiration_date');
      const res = await fetchJson(emu, 'POST', '/account/api/v1/api-access-token', s.bootstrap.apiKey, { name: 'lenient', user_id: s.signer.id, expiration_date: day(1) });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ end_date: null });
    } finally {
      renames.clear();
      await emu.close();
    }
  });
});

describe('PUT /api-access-token/{id}: disable and re-enable', () => {
  it('a disabled token is refused with 401 like an unknown one; re-enabled it works again; an unknown key is 400', async () => {
    const emu = await D1Emulator.start();
    try {
      const s = seedScenario(emu);
      const made = await fetchJson(emu, 'POST', '/account/api/v1/api-access-token', s.bootstrap.apiKey, { name: 'to-disable', user_id: s.signer.id, end_date: day(1) });
      const { id, token } = made.body as { id: string; token: string };
      expect((await fetchJson(emu, 'GET', '/account/api/v1/user/me', token)).status).toBe(200);
      const put = (body: unknown) => fetchJson(emu, 'PUT', `/account/api/v1/api-access-token/${id}`, s.bootstrap.apiKey, body);
      expect(await put({ enabled: false })).toMatchObject({ status: 200, body: { status: 'DISABLED' } });
      expect(await fetchJson(emu, 'GET', '/account/api/v1/user/me', token)).toMatchObject({ status: 401, body: { errors: [{ code: 'invalid_api_key', message: 'Invalid API key' }] } });
      expect(await put({ enabled: true })).toMatchObject({ status: 200, body: { status: 'ACTIVE' } });
      expect((await fetchJson(emu, 'GET', '/account/api/v1/user/me', token)).status).toBe(200);
      emu.errorShape = 'error';
      expect(await put({ active: false })).toEqual({ status: 400, body: { error: { code: 'invalid_request', message: "unknown field 'active'" } } });
    } finally {
      await emu.close();
    }
  });
});

async function fetchJson(emu: D1Emulator, method: string, path: string, apiKey: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const { Agent } = await import('undici');
  const agent = new Agent({ connect: { ca: emu.caPem } });
  try {
    const res = await agent.request({
      origin: `https://${emu.host}`,
      path,
      method: method as 'GET',
      headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.destroy();
  }
}
