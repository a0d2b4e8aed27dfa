/** Retries, lost creates and the sweep, with a virtual clock: no real waiting, every wait recorded. */
import { describe, expect, it } from 'vitest';
import { D1Client, D1Error } from '../src/d1/client.js';
import { checkExpiry } from '../src/credentials/expiry.js';
import type { HttpClient, HttpResponse } from '../src/platform/http.js';
import { NetworkError } from '../src/platform/http.js';
import { KINDS } from '../src/credentials/index.js';
import type { Id, Name, UtcDay } from '../src/d1/wire.js';
import { createOnce } from '../src/credentials/mint.js';
import { defaultTokenName } from '../src/credentials/naming.js';
import { RETRY_AFTER_SPREAD_MS, RETRY_RESERVE_MS, backoffMs, parseRetryAfter, retryAfterWaitMs, type Clock } from '../src/d1/retry.js';
import { isStale } from '../src/credentials/sweep.js';

type Step = HttpResponse | NetworkError;

function virtualClock(start = Date.parse('2026-11-23T12:00:00Z'), random: () => number = () => 0.5) {
  let t = start;
  const waits: number[] = [];
  /** Where each sleep ended, on the clock. */
  const woke: number[] = [];
  const clock: Clock = { now: () => t, sleep: async (ms) => {
      waits.push(ms);
      t += ms;
      woke.push(t);
    }, random };
  return { clock, waits, woke, advance: (ms: number) => (t += ms) };
}

/** random() that returns `values` in turn (then the last one again). */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

/** A small deterministic generator (mulberry32), so the property below is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
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
    const http = scripted([r(429, { 'retry-after': '3' }), r(503, { 'retry-after': 'Mon, 23 Nov 2026 12:00:20 GMT' }), ok201]);
    const minted = await client(http, v, 60_000, log).createToken(req);
    expect(minted.id).toBe('t1');
    // Retry-After plus half the spread window (random 0.5); the date counted from after the first wait.
    const first = 3000 + RETRY_AFTER_SPREAD_MS / 2;
    const told = 20_000 - first;
    const second = told + RETRY_AFTER_SPREAD_MS / 2;
    expect(v.waits).toEqual([first, second]);
    expect(log).toEqual([
      `DigiCert ONE POST /account/api/v1/api-access-token answered 429 (Retry-After: 3 s); attempt 2 in ${(first / 1000).toFixed(1)} s.`,
      `DigiCert ONE POST /account/api/v1/api-access-token answered 503 (Retry-After: ${Math.round(told / 1000)} s); attempt 3 in ${(second / 1000).toFixed(1)} s.`,
    ]);
  });

  it('after a refusal with Retry-After, waits Retry-After plus a spread drawn from clock.random over the window, each retry alike', async () => {
    // random() at the two ends of the window and between: the waits span the window, never below Retry-After.
    const draws = [0, 0.999999, 0.5, 0.25, 0.75];
    const v = virtualClock(undefined, sequence(draws));
    const http = scripted([...draws.map(() => r(429, { 'retry-after': '1' })), ok201]);
    await client(http, v, 600_000).createToken(req);
    expect(v.waits).toEqual(draws.map((d) => 1000 + Math.floor(d * RETRY_AFTER_SPREAD_MS)));
    expect(Math.min(...v.waits)).toBe(1000);
    expect(Math.max(...v.waits)).toBe(1000 + RETRY_AFTER_SPREAD_MS - 1);
  });

  it('retryAfterWaitMs: Retry-After plus the spread, cut to leave the reserve, and nothing when Retry-After reaches the deadline', () => {
    expect(retryAfterWaitMs(3000, 60_000, () => 0.5)).toBe(3000 + RETRY_AFTER_SPREAD_MS / 2);
    // 6 s left: 3 s of Retry-After and 1 s of reserve leave a window of 2 s.
    expect(retryAfterWaitMs(3000, 6000, () => 0.999999)).toBe(3000 + 1999);
    expect(retryAfterWaitMs(3000, 3500, () => 0.999999)).toBe(3000);
    expect(retryAfterWaitMs(3000, 3000, () => 0)).toBeUndefined();
  });

  it('spreads a crowd refused together over the whole window (1000 draws: each tenth of the window gets about a tenth)', async () => {
    const random = seeded(7);
    const buckets = new Array<number>(10).fill(0);
    for (let job = 0; job < 1000; job++) {
      const v = virtualClock(undefined, random);
      await client(scripted([r(429, { 'retry-after': '2' }), ok201]), v).createToken(req);
      const spread = v.waits[0]! - 2000;
      expect(spread).toBeGreaterThanOrEqual(0);
      expect(spread).toBeLessThan(RETRY_AFTER_SPREAD_MS);
      buckets[Math.floor((spread / RETRY_AFTER_SPREAD_MS) * 10)]!++;
    }
    for (const b of buckets) expect(b).toBeGreaterThan(60);
  });

  it('never sleeps past the deadline: the spread shrinks to leave the retry its reserve, and a Retry-After that reaches the deadline is not waited for', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seeded(seed);
      const budget = 2000 + Math.floor(random() * 60_000);
      const v = virtualClock(undefined, random);
      const start = v.clock.now();
      // Refused every time, each answer with its own Retry-After (0 to 5 s), until the client gives up.
      const told: number[] = [];
      const refusing: HttpClient = {
        async send() {
          told.push(Math.floor(random() * 6) * 1000);
          return r(429, { 'retry-after': String(told.at(-1)! / 1000) });
        },
        async close() {},
      };
      const e = await client(refusing, v, budget)
        .deleteToken('x' as Id)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(D1Error);
      expect((e as D1Error).status).toBe(429);
      for (const [i, wait] of v.waits.entries()) {
        expect(wait).toBeGreaterThanOrEqual(told[i]!);
        expect(v.woke[i]!).toBeLessThan(start + budget);
        // Either the retry keeps its reserve, or Retry-After alone left less than that and the spread was nothing.
        if (wait > told[i]!) expect(start + budget - v.woke[i]!).toBeGreaterThanOrEqual(RETRY_RESERVE_MS);
      }
    }
  });

  it('gives up at once when Retry-After reaches the deadline', async () => {
    const v = virtualClock();
    const http = scripted([r(429, { 'retry-after': '30' })]);
    const e = await client(http, v, 20_000).createToken(req).catch((x: D1Error) => x);
    expect(e).toBeInstanceOf(D1Error);
    expect((e as D1Error).kind).toBe('rate-limited');
    expect(v.waits).toEqual([]);
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
    const spent = v.waits.reduce((a, b) => a + b, 0);
    expect(v.waits).toHaveLength(2);
    expect(spent).toBeLessThan(10_000);
    expect((e as D1Error).message).toContain(`returned 503 (no error detail) after 3 attempts in ${(spent / 1000).toFixed(1)} s`);
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
