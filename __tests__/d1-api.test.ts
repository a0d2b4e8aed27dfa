import { describe, expect, it } from 'vitest';
import { D1Client, D1Error, parseServerError } from '../src/d1/client.js';
import type { Id, Name, UtcDay } from '../src/d1/wire.js';
import type { HttpClient, HttpResponse } from '../src/platform/http.js';
import { NetworkError } from '../src/platform/http.js';

function fake(answer: HttpResponse | Error): HttpClient & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    async send(...args) {
      args.pop(); // the timeout
      calls.push(args);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    async close() {},
  };
}

function opts(secrets: string[]) {
  // No retries in these tests: the deadline is already near.
  // A frozen clock, so the budget never runs out before the first request, however slow the machine.
  return { host: 'h', secrets, deadline: 1005, clock: { now: () => 1000, sleep: async () => {}, random: () => 0 } };
}

async function failure(p: Promise<unknown>): Promise<D1Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof D1Error) return e;
    throw e;
  }
  throw new Error('did not fail');
}

describe('parseServerError', () => {
  it('reads both documented shapes', () => {
    expect(parseServerError({ error: { code: 'invalid_api_key', message: 'bad' } })).toEqual({ code: 'invalid_api_key', message: 'bad' });
    expect(parseServerError({ errors: [{ code: 'duplicate_error', message: 'exists' }] })).toEqual({ code: 'duplicate_error', message: 'exists' });
    expect(parseServerError('<html>gateway</html>')).toEqual({ code: undefined, message: '<html>gateway</html>' });
  });
});

describe('D1Client.createToken', () => {
  const t = { userId: 'u1' as Id, name: 'n' as Name, endDate: '2026-11-24' as UtcDay };

  it('sends the documented body and reads the secret', async () => {
    const http = fake({ status: 201, headers: {}, body: { id: 't1', token: 's3cret-value', name: 'n', user_id: 'u1', end_date: '2026-11-24' } });
    const minted = await new D1Client(http, opts([])).createToken(t);
    expect(http.calls[0]).toEqual(['POST', '/account/api/v1/api-access-token', { name: 'n', end_date: '2026-11-24', user_id: 'u1' }]);
    expect(minted).toEqual({ id: 't1', secret: 's3cret-value', endDate: '2026-11-24', name: 'n', unconfirmed: [] });
  });

  it('an answer without end date or name: neither is filled in from the request; both are listed as unconfirmed', async () => {
    const http = fake({ status: 201, headers: {}, body: { id: 't1', token: 's3cret-value' } });
    const minted = await new D1Client(http, opts([])).createToken(t);
    expect(minted).toEqual({
      id: 't1',
      secret: 's3cret-value',
      endDate: undefined,
      name: undefined,
      unconfirmed: [
        { field: 'endDate', text: "'end_date' in the answer to POST /account/api/v1/api-access-token" },
        { field: 'name', text: "'name' in the answer to POST /account/api/v1/api-access-token" },
      ],
    });
  });

  it('names the fields present, never their values, when the token is missing', async () => {
    const e = await failure(new D1Client(fake({ status: 201, headers: {}, body: { id: 't1', secret_value: 'leaky' } }), opts([])).createToken(t));
    expect(e.kind).toBe('protocol');
    expect(e.message).toContain('POST /account/api/v1/api-access-token returned 201 without its API token');
    expect(e.message).toContain('fields present: id, secret_value');
    // A hostile key is shown as `?`, never as it came.
    const h = await failure(new D1Client(fake({ status: 201, headers: {}, body: { id: 't1', 'x\n::error::forged': 1 } }), opts([])).createToken(t));
    expect(h.message).toContain('fields present: id, ?');
    expect(e.message).not.toContain('leaky');
  });

  it('scrubs the bootstrap secret from a server message it repeats', async () => {
    const e = await failure(new D1Client(fake({ status: 400, headers: {}, body: { error: { code: 'invalid_request', message: 'key abc123secret is odd' } } }), opts(['abc123secret'])).createToken(t));
    expect(e.message).toContain('key *** is odd');
    expect(e.message).not.toContain('abc123secret');
  });

  it('maps 429 and 503 with Retry-After', async () => {
    const e429 = await failure(new D1Client(fake({ status: 429, headers: { 'retry-after': '7' }, body: {} }), opts([])).createToken(t));
    expect(e429.kind).toBe('rate-limited');
    expect(e429.message).toContain('Retry-After: 7 s');
    const e503 = await failure(new D1Client(fake({ status: 503, headers: {}, body: {} }), opts([])).createToken(t));
    expect(e503.message).toContain('maintenance window');
  });

  it.each([
    ['ENOTFOUND', 'could not resolve h'],
    ['UND_ERR_CONNECT_TIMEOUT', 'did not answer in time'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'give its CA certificate in the tls-ca-certificates input'],
    ['ECONNRESET', 'was dropped'],
  ])('network error %s', async (code, says) => {
    const e = await failure(new D1Client(fake(new NetworkError('boom', code)), opts([])).createToken(t));
    expect(e.kind).toBe('network');
    expect(e.message).toContain(says);
  });
});

describe('D1Client.deleteToken', () => {
  it('204 is deleted, 404 is gone, anything else throws', async () => {
    expect(await new D1Client(fake({ status: 204, headers: {}, body: undefined }), opts([])).deleteToken('x' as Id)).toBe('deleted');
    expect(await new D1Client(fake({ status: 404, headers: {}, body: {} }), opts([])).deleteToken('x' as Id)).toBe('gone');
    expect((await failure(new D1Client(fake({ status: 401, headers: {}, body: {} }), opts([])).deleteToken('x' as Id))).kind).toBe('auth');
  });
});
