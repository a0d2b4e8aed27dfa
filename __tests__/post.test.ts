import { describe, expect, it } from 'vitest';
import type { Core } from '../src/core.js';
import type { HttpClient } from '../src/http.js';
import { runPost } from '../src/post.js';

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

const saved = { host: 'one.digicert.com', 'token-id': 't1', 'token-name': 'n', 'user-id': 'u1', 'end-date': '2026-11-24' };

function noHttp(): HttpClient {
  return {
    send: () => Promise.reject(new Error('no request expected')),
    close: async () => {},
  };
}

describe('runPost', () => {
  it('skips a token already past its end date without a request', async () => {
    const { core, log } = fakeCore({ 'api-key': 'k' }, saved);
    const outcome = await runPost({ core, env: {}, now: new Date('2026-11-25T00:00:01Z'), createHttp: noHttp });
    expect(outcome).toBe('expired');
    expect(log.join('\n')).toContain('past its end date (2026-11-24)');
  });

  it('still revokes on the end date itself (it works until 23:59:59 UTC)', async () => {
    const calls: string[] = [];
    const { core } = fakeCore({ 'api-key': 'k' }, saved);
    const outcome = await runPost({
      core,
      env: {},
      now: new Date('2026-11-24T23:59:00Z'),
      createHttp: (o) => ({
        send: async (m, p) => (calls.push(`${m} ${p} ${o.baseUrl}`), { status: 204, headers: {}, body: undefined }),
        close: async () => {},
      }),
    });
    expect(outcome).toBe('revoked');
    expect(calls).toEqual(['DELETE /account/api/v1/api-access-token/t1 https://one.digicert.com']);
  });

  it('warns, with the manual command, when api-key is gone in post', async () => {
    const { core, log } = fakeCore({}, saved);
    expect(await runPost({ core, env: {}, now: new Date('2026-11-23T12:00:00Z'), createHttp: noHttp })).toBe('failed');
    expect(log.join('\n')).toContain('curl -X DELETE');
  });

  it('with a client-certificate it cannot use, warns with the mutual-TLS delete command and sends nothing', async () => {
    const { core, log } = fakeCore({ 'client-certificate': 'bm90IGEgcDEy', 'client-certificate-password': 'pw-value' }, saved);
    expect(await runPost({ core, env: {}, now: new Date('2026-11-23T12:00:00Z'), createHttp: noHttp })).toBe('failed');
    const text = log.join('\n');
    expect(text).toContain("warning:Could not revoke token 'n' (id t1) on one.digicert.com: Input 'client-certificate': is neither a base64-encoded PKCS#12 file");
    expect(text).toContain('curl -X DELETE --cert-type P12 --cert cert.p12:"$P12_PASSWORD" https://clientauth.one.digicert.com/account/api/v1/api-access-token/t1');
    expect(log).toContain('mask:pw-value');
    expect(text.split('\n').filter((l) => !l.startsWith('mask:')).join('\n')).not.toContain('pw-value');
  });
});
