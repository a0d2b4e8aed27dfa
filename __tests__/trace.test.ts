/**
 * Request tracing: with the runner's debug logging on, one debug line per HTTP attempt (method, path, status,
 * duration, attempt, field names), shown by the runner model as `##[debug]…`; never a header value, a body value
 * or a secret, which the leak scanner checks in everything the runner keeps and in the raw debug lines too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scanJob } from '../harness/leaks.js';
import { useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

const TRACE = /^##\[debug\]DigiCert ONE (GET|POST|DELETE) (\/\S+) -> (\d{3}) in \d+ ms \(attempt (\d)\); (.*)$/;

describe('request tracing', () => {
  it('step debug (RUNNER_DEBUG=1): one line per attempt, names only, nothing secret', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '0' }, {}, { stepDebug: true });
    t.emu.fault({ method: 'DELETE', kind: 'status', status: 503, retryAfter: '0' });
    const before = t.emu.requests.length;
    const main = await j.main();
    const post = await j.post();
    expect([main.exitCode, post.exitCode]).toEqual([0, 0]);
    const seen = t.emu.requests.slice(before).map((r) => `${r.method} ${r.path}${r.query} ${r.status}`);
    const traced = [...main.log, ...post.log].filter((l) => l.startsWith('##[debug]DigiCert ONE')).map((l) => {
      const m = TRACE.exec(l);
      expect(m, l).not.toBeNull();
      return m!;
    });
    // One per request the emulator saw, in order, with its status; the retried DELETE shows attempts 1 and 2.
    expect(traced.map((m) => `${m[1]} ${m[2]} ${m[3]}`)).toEqual(seen);
    expect(traced.map((m) => m[4])).toEqual(['1', '1', '2']);
    expect(traced[0]![5]).toMatch(/^fields id, name, user_id, end_date, created_at, status, token$/);
    const token = main.outputs.token!;
    const raw = [main.stdout, post.stdout].join('\n').split('\n').filter((l) => l.startsWith('::debug::'));
    expect(raw).toHaveLength(3);
    for (const secret of [token, t.s.bootstrap.apiKey]) for (const line of raw) expect(line.includes(secret)).toBe(false);
    for (const line of raw) expect(line).not.toMatch(/x-api-key|user-agent|d1-token-action\//i);
    expect(scanJob(j, { 'api-key': t.s.bootstrap.apiKey, minted: token }, { allowInOutput: { token: 'minted' } })).toEqual([]);
  });

  it('without debug logging: no trace lines at all', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'expiry-warning-days': '0' });
    const main = await j.main();
    await j.post();
    expect(main.stdout).not.toContain('::debug::DigiCert ONE');
  });
});
