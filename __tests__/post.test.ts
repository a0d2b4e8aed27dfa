import { describe, expect, it } from 'vitest';
import type { Core } from '../src/runner/core.js';
import { networkEnvironment, type HttpClient } from '../src/platform/http.js';
import { runPost } from '../src/steps/post.js';
import { virtualClock } from './support/clock.js';

function fakeCore(inputs: Record<string, string>, state: Record<string, string>) {
  const log: string[] = [];
  const core = {
    getInput: (n: string) => inputs[n] ?? '',
    getState: (n: string) => state[n] ?? '',
    setSecret: (v: string) => log.push(`mask:${v}`),
    info: (m: string) => log.push(`info:${m}`),
    warning: (m: string | Error) => log.push(`warning:${String(m)}`),
    summary: { addRaw() { return this; }, async write() { return this; } },
  } as unknown as Core;
  return { core, log };
}

// Main's digest of the proxy settings; these tests run post with the same (empty) environment.
const network = networkEnvironment({}).digest;
const saved = { host: 'one.digicert.com', network, credentials: JSON.stringify([{ kind: 'api-token', id: 't1', name: 'n', userId: 'u1', endDate: '2026-11-24' }]) };

function noHttp(): HttpClient {
  return {
    send: () => Promise.reject(new Error('no request expected')),
    close: async () => {},
  };
}

describe('runPost', () => {
  it('past the saved end date, still sends the delete: the date explains, it never decides (issue 12, finding 2)', async () => {
    const calls: string[] = [];
    const { core, log } = fakeCore({ 'api-key': 'k' }, saved);
    const answer = { status: 401, headers: {}, body: { errors: [{ code: 'invalid_api_key', message: 'API key has expired' }] } };
    const outcome = await runPost({
      core,
      env: {},
      clock: virtualClock('2026-11-25T00:00:01Z'),
      createHttp: () => ({ send: async (m, p) => {
        calls.push(`${m} ${p}`);
        return answer;
      }, close: async () => {} }),
    });
    expect(calls).toEqual(['DELETE /account/api/v1/api-access-token/t1']);
    // A 401 after the credential's own end date: done, with a note, not a warning.
    expect(outcome).toBe('expired');
    expect(log.join('\n')).toContain('passed its end date 2026-11-24 and no longer works');
    expect(log.some((l) => l.startsWith('warning:'))).toBe(false);
  });

  it.each([
    ['a saved list that is not JSON', { host: 'one.digicert.com', network, credentials: '{not json' }],
    ['an id that is a path', { host: 'one.digicert.com', network, credentials: JSON.stringify([{ kind: 'api-token', id: '../user/victim', name: 'n', userId: 'u1', endDate: '2026-11-24' }]) }],
    ['a kind main never writes', { host: 'one.digicert.com', network, credentials: JSON.stringify([{ kind: 'user', id: 'victim', name: 'n', userId: 'u1', endDate: '2026-11-24' }]) }],
    ['another host', { host: 'evil.example', network, credentials: saved.credentials }],
    ['a host that is not a host name', { host: 'x\n::warning::forged', credentials: saved.credentials }],
  ])('state that does not fit is not acted on: %s (issue 12, finding 6)', async (_what, state) => {
    const { core, log } = fakeCore({ 'api-key': 'k' }, state);
    expect(await runPost({ core, env: {}, clock: virtualClock('2026-11-23T12:00:00Z'), createHttp: noHttp })).toBe('failed');
    expect(log.some((l) => l.startsWith('warning:'))).toBe(true);
  });

  it('still revokes on the end date itself (it works until 23:59:59 UTC)', async () => {
    const calls: string[] = [];
    const { core } = fakeCore({ 'api-key': 'k' }, saved);
    const outcome = await runPost({
      core,
      env: {},
      clock: virtualClock('2026-11-24T23:59:00Z'),
      createHttp: (o) => ({
        send: async (m, p) => {
          calls.push(`${m} ${p} ${o.baseUrl}`);
          return { status: 204, headers: {}, body: undefined };
        },
        close: async () => {},
      }),
    });
    expect(outcome).toBe('revoked');
    expect(calls).toEqual(['DELETE /account/api/v1/api-access-token/t1 https://one.digicert.com']);
  });

  it('warns, with the manual command, when api-key is gone in post', async () => {
    const { core, log } = fakeCore({}, saved);
    expect(await runPost({ core, env: {}, clock: virtualClock('2026-11-23T12:00:00Z'), createHttp: noHttp })).toBe('failed');
    expect(log.join('\n')).toContain('curl -X DELETE');
  });

  it('with a client-certificate it cannot use, warns with the mutual-TLS delete command and sends nothing', async () => {
    const { core, log } = fakeCore({ 'client-certificate': 'bm90IGEgcDEy', 'client-certificate-password': 'pw-value' }, saved);
    expect(await runPost({ core, env: {}, clock: virtualClock('2026-11-23T12:00:00Z'), createHttp: noHttp })).toBe('failed');
    const text = log.join('\n');
    expect(text).toContain("warning:Could not revoke token 'n' (id t1) on one.digicert.com: Input 'client-certificate': is neither a base64-encoded PKCS#12 file");
    expect(text).toContain('curl -X DELETE --cert-type P12 --cert cert.p12:"$P12_PASSWORD" https://clientauth.one.digicert.com/account/api/v1/api-access-token/t1');
    expect(log).toContain('mask:pw-value');
    expect(text.split('\n').filter((l) => !l.startsWith('mask:')).join('\n')).not.toContain('pw-value');
  });
});
