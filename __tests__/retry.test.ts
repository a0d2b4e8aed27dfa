/** Retries, lost creates and the sweep, with a virtual clock: no real waiting, every wait recorded. */
import { describe, expect, it } from 'vitest';
import { D1Client, D1Error } from '../src/d1-api.js';
import { checkExpiry } from '../src/expiry.js';
import type { HttpClient, HttpResponse } from '../src/http.js';
import { NetworkError } from '../src/http.js';
import { KINDS } from '../src/credentials/index.js';
import type { Id, Name, UtcDay } from '../src/d1-wire.js';
import { createOnce } from '../src/mint.js';
import { defaultTokenName } from '../src/naming.js';
import { backoffMs, parseRetryAfter, type Clock } from '../src/retry.js';
import { isStale } from '../src/sweep.js';

type Step = HttpResponse | NetworkError;

function virtualClock(start = Date.parse('2026-11-23T12:00:00Z')) {
  let t = start;
  const waits: number[] = [];
  const clock: Clock = { now: () => t, sleep: async (ms) => void (waits.push(ms), (t += ms)), random: () => 0.5 };
  return { clock, waits, advance: (ms: number) => (t += ms) };
}

function scripted(steps: Step[]): HttpClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async send(method, path) {
      calls.push(`${method} ${path}`);
      const next = steps.shift();
      if (!next) throw new Error(`unexpected request ${method} ${path}`);
      if (next instanceof NetworkError) throw next;
      return next;
    },
    async close() {},
  };
}

const ok201 = { status: 201, headers: {}, body: { id: 't1', token: 'secret-token', name: 'n', user_id: 'u', end_date: '2026-11-24' } };
const r = (status: number, headers: Record<string, string> = {}, body: unknown = {}): HttpResponse => ({ status, headers, body });
const req = { userId: 'u' as Id, name: 'n' as Name, endDate: '2026-11-24' as UtcDay };
/** Mints as main does: createOnce around createToken, with the pending record post would read. */
function mintToken(c: D1Client, t: typeof req, log: (l: string) => void) {
  const pending = { kind: 'api-token' as const, id: '' as const, name: t.name, userId: t.userId, endDate: t.endDate };
  return createOnce({ client: c, kind: KINDS['api-token'], pending, log }, () => c.createToken(t));
}

function client(http: HttpClient, v: ReturnType<typeof virtualClock>, budgetMs = 60_000, log: string[] = []) {
  return new D1Client(http, { host: 'h', secrets: [], deadline: v.clock.now() + budgetMs, clock: v.clock, log: (l) => log.push(l) });
}

describe('retry policy', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(20, () => 1)).toBe(10_000);
  });

  it('honours Retry-After on 429 and 503, logging one line per retry', async () => {
    const v = virtualClock();
    const log: string[] = [];
    const http = scripted([r(429, { 'retry-after': '3' }), r(503, { 'retry-after': 'Mon, 23 Nov 2026 12:00:05 GMT' }), ok201]);
    const minted = await client(http, v, 60_000, log).createToken(req);
    expect(minted.id).toBe('t1');
    expect(v.waits).toEqual([3500, 2000]); // Retry-After plus jitter (random 0.5 → 500 ms), the date counted from after the first wait
    expect(log).toEqual([
      'DigiCert ONE POST /account/api/v1/api-access-token answered 429 (Retry-After: 3 s); attempt 2 in 3.5 s.',
      'DigiCert ONE POST /account/api/v1/api-access-token answered 503 (Retry-After: 2 s); attempt 3 in 2.0 s.',
    ]);
  });

  it.each([400, 401, 403, 404, 409, 422])('never retries %i', async (status) => {
    const v = virtualClock();
    const http = scripted([r(status)]);
    await expect(client(http, v).getUser('me')).rejects.toBeInstanceOf(D1Error);
    expect(http.calls).toHaveLength(1);
  });

  it('gives up when the next wait would pass the budget, and says how long it tried', async () => {
    const v = virtualClock();
    const http = scripted([r(503, { 'retry-after': '2' }), r(503, { 'retry-after': '2' }), r(503, { 'retry-after': '20' })]);
    const e = await client(http, v, 10_000).deleteToken('x' as Id).catch((x: D1Error) => x);
    expect(e).toBeInstanceOf(D1Error);
    expect((e as D1Error).message).toContain('returned 503 (no error detail) after 3 attempts in 5.0 s');
    expect((e as D1Error).message).toContain('after 3 attempts in 5.0 s');
  });

  it('repeats a read after a reset, but reports a reset create as maybe committed', async () => {
    const v = virtualClock();
    const get = scripted([new NetworkError('reset', 'ECONNRESET'), r(200, {}, { id: 'me1' })]);
    expect((await client(get, v).getUser('me')).id).toBe('me1');
    const post = scripted([new NetworkError('reset', 'ECONNRESET')]);
    const e = (await client(post, v).createToken(req).catch((x) => x)) as D1Error;
    expect(e.maybeCommitted).toBe(true);
    expect(post.calls).toHaveLength(1);
  });

  it('repeats a create that certainly never left (connection refused)', async () => {
    const v = virtualClock();
    const http = scripted([new NetworkError('refused', 'ECONNREFUSED'), ok201]);
    expect((await client(http, v).createToken(req)).id).toBe('t1');
    expect(v.waits).toEqual([375]);
  });
});

describe('mintToken after a lost answer', () => {
  it('deletes the token the server made, then mints again', async () => {
    const v = virtualClock();
    const log: string[] = [];
    const http = scripted([
      new NetworkError('reset', 'ECONNRESET'),
      r(200, {}, [{ id: 'orphan', name: 'n' }, { id: 'other', name: 'x' }]),
      r(204),
      ok201,
    ]);
    const minted = await mintToken(client(http, v), req, (l) => log.push(l));
    expect(minted.id).toBe('t1');
    expect(http.calls).toEqual([
      'POST /account/api/v1/api-access-token',
      'GET /account/api/v1/api-access-token?user_id=u',
      'DELETE /account/api/v1/api-access-token/orphan',
      'POST /account/api/v1/api-access-token',
    ]);
    expect(log[0]).toContain("made token 'n' (id orphan)");
  });

  it('mints again without deleting when the server made nothing', async () => {
    const v = virtualClock();
    const http = scripted([r(502), r(200, {}, []), ok201]);
    expect((await mintToken(client(http, v), req, () => {})).id).toBe('t1');
  });

  it('says the post step will look for the token when the check fails too', async () => {
    const v = virtualClock();
    const http = scripted([new NetworkError('reset', 'ECONNRESET'), r(403)]);
    const e = (await mintToken(client(http, v), req, () => {}).catch((x) => x)) as D1Error;
    expect(e.message).toContain('the post step looks it up by name and deletes it');
  });
});

describe('sweep and expiry', () => {
  const run = { repository: 'octo/app', runId: '500', runAttempt: '1', job: 'sign' };
  const now = new Date('2026-11-23T12:00:00Z');
  const o = { staleAfterMs: 24 * 3_600_000, now };
  const tok = (runId: string, extra: { createdAt?: string; endDate?: string } = {}) => ({
    id: 'x' as Id,
    name: defaultTokenName({ ...run, runId }) as Name,
    endDate: (extra.endDate ?? '2026-11-24') as UtcDay,
    createdAt: Date.parse(extra.createdAt ?? '2026-11-23T11:00:00Z'),
  });

  it('counts as stale only this repository\'s default names from other runs that are over', () => {
    expect(isStale(tok('400', { createdAt: '2026-11-22T11:00:00Z' }), run, o)).toBe(true);
    expect(isStale(tok('400', { endDate: '2026-11-22' }), run, o)).toBe(true);
    expect(isStale(tok('400'), run, o)).toBe(false); // recent: its run may still be going
    expect(isStale(tok('500', { createdAt: '2026-11-01T00:00:00Z' }), run, o)).toBe(false); // this run
    expect(isStale({ ...tok('400', { createdAt: '2026-11-01T00:00:00Z' }), name: 'release key' as Name }, run, o)).toBe(false);
    expect(isStale({ ...tok('400', { createdAt: '2026-11-01T00:00:00Z' }), name: defaultTokenName({ ...run, repository: 'octo/other', runId: '400' }) as Name }, run, o)).toBe(false);
  });

  it('warns within the window and calls a past end date what it is', () => {
    expect(checkExpiry('X', '2026-12-30', now, 14)).toEqual({ level: 'ok' });
    expect(checkExpiry('X', '2026-11-30', now, 14)).toMatchObject({ level: 'warn', message: expect.stringContaining('in 7 days') });
    expect(checkExpiry('X', '2026-11-23', now, 14)).toMatchObject({ level: 'warn', message: expect.stringContaining('(today)') });
    expect(checkExpiry('X', '2026-11-22', now, 14)).toMatchObject({ level: 'expired', message: expect.stringContaining('stopped at midnight') });
    expect(checkExpiry('X', '2026-11-24', now, 0)).toEqual({ level: 'ok' });
  });
});
