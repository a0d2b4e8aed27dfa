/**
 * The action's broker mode in this process (main, post and preflight through their hooks in main.ts, post.ts and
 * preflight.ts), against the in-process broker world on a virtual clock: the order of what the step does (mask,
 * state, request), and what it does with answers the broker should never give.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusWith } from '../harness/later-step.js';
import type { Clock } from '../src/platform/clock.js';
import type { Core } from '../src/runner/core.js';
import { createHttpClient, serviceTrust, type HttpClient, type HttpOptions } from '../src/platform/http.js';
import { runMain } from '../src/steps/main.js';
import { runPost } from '../src/steps/post.js';
import { runPreflight } from '../src/steps/preflight.js';
import { AUDIENCE, DEFAULT_JOB, hasSqlite, startWorld, type BrokerWorld } from './support/broker.js';
import { jobClaims } from '../harness/oidc-issuer.js';

/** A Core that records every call in order (what the runner would see on stdout, as events). */
function recordingCore(inputs: Record<string, string>, state: Record<string, string> = {}) {
  const events: string[] = [];
  const core = {
    getInput: (n: string) => inputs[n] ?? '',
    getState: (n: string) => state[n] ?? '',
    saveState: (n: string, v: string) => {
      events.push(`state ${n}=${v}`);
      state[n] = v;
    },
    setSecret: (v: string) => void events.push(`mask ${v}`),
    setOutput: (n: string, v: string) => void events.push(`output ${n}=${v}`),
    exportVariable: (n: string, v: string) => void events.push(`env ${n}=${v}`),
    info: (m: string) => void events.push(`info ${m}`),
    debug: (m: string) => void events.push(`debug ${m}`),
    warning: (m: string | Error) => void events.push(`warning ${String(m)}`),
    setFailed: (m: string | Error) => void events.push(`failed ${String(m)}`),
    summary: { addRaw() { return this; }, async write() { return this; } },
  } as unknown as Core;
  return { core, events, state };
}

describe.skipIf(!hasSqlite)('the action in broker mode, in process', () => {
  let w: BrokerWorld;
  let clock: Clock;
  beforeAll(async () => {
    w = await startWorld();
    clock = w.clock;
  }, 60_000);
  afterAll(async () => w?.close());

  /** The step's collaborators: the job's ID-token variables, and src/platform/http.ts trusting the world's CAs (NODE_EXTRA_CA_CERTS in a real step). */
  function step(runId: string, over: Partial<{ createHttp: (o: HttpOptions) => HttpClient }> = {}) {
    const idToken = w.issuer.registerJob(jobClaims({ ...DEFAULT_JOB, run_id: runId }));
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: idToken.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: idToken.token };
    const createHttp = over.createHttp ?? ((o: HttpOptions) => createHttpClient({ ...o, ca: serviceTrust(w.caPem) }));
    return { env, createHttp, clock, run: { repository: DEFAULT_JOB.repository, runId, runAttempt: '1', job: 'sign' }, requestToken: idToken.token };
  }
  const inputs = () => ({ 'broker-url': w.url, 'broker-policy': 'release', 'broker-audience': AUDIENCE, 'timeout-seconds': '30' });

  it('main: request token masked, lease saved, then the exchange; the token masked before any output; post revokes', async () => {
    const s = step('31001');
    const { core, events, state } = recordingCore(inputs());
    await runMain({ core, ...s });
    const token = events.find((e) => e.startsWith('output token='))!.slice('output token='.length);
    const at = (prefix: string) => events.findIndex((e) => e.startsWith(prefix));
    // The request token (with its encoded forms) is masked before anything else happens.
    expect(events.slice(0, at(`mask ${s.requestToken}`) + 1).every((e) => e.startsWith('mask '))).toBe(true);
    expect(at('state broker=')).toBeGreaterThan(at('mask ey'));
    expect(at(`mask ${token}`)).toBeLessThan(at('output '));
    expect(events.filter((e) => e.startsWith('output ')).map((e) => e.split('=')[0])).toEqual([
      'output token', 'output token-id', 'output token-name', 'output user-id', 'output ephemeral-user-id', 'output expires-at', 'output base-url', 'output job-certificate-file', 'output job-certificate-password', 'output keypair-id',
    ]);
    expect(await statusWith(w.emu, token)).toBe(200);

    const post = recordingCore(inputs(), state);
    expect(await runPost({ core: post.core, ...step('31001') })).toBe('revoked');
    expect(post.events.some((e) => e.startsWith("info The broker revoked api-token 'gha_octo-org_release-tools_31001_1_sign_"))).toBe(true);
    expect(await statusWith(w.emu, token)).toBe(401);
  });

  it('main: an answer without a usable credential fails the step, its token masked all the same, and post still revokes the lease', async () => {
    const s = step('31002');
    const junk = 'jUnK-secret-value-0123456789';
    // The real broker mints; its answer reaches the step with a field the action cannot use.
    const createHttp = (o: HttpOptions): HttpClient => {
      const real = createHttpClient({ ...o, ca: serviceTrust(w.caPem) });
      return {
        async send(m, p, b, t) {
          const res = await real.send(m, p, b, t);
          return p.endsWith('/v1/credentials') ? { ...res, body: { ...(res.body as object), host: 'evil.example/x', token: junk } } : res;
        },
        close: () => real.close(),
      };
    };
    const { core, events, state } = recordingCore(inputs());
    await expect(runMain({ core, ...s, createHttp })).rejects.toThrow(/answered 201 without a credential this action can use; the post step asks it to revoke whatever it made for this job/);
    expect(events).toContain(`mask ${junk}`);
    expect(events.some((e) => e.startsWith('output '))).toBe(false);
    const lease = JSON.parse(state.broker!).leases[0] as string;
    const row = w.ledgerRows().find((r) => r.lease === lease)!;
    expect(row.state).toBe('live');
    const post = recordingCore(inputs(), state);
    expect(await runPost({ core: post.core, ...step('31002') })).toBe('revoked');
    expect(w.ledgerRows().find((r) => r.lease === lease)!.state).toBe('revoked');
  });

  it('post: a lease list main never writes is not sent; skip-revoke leaves it to the sweeper', async () => {
    const bad = recordingCore(inputs(), { broker: '{"leases":["../x"]}' });
    const before = w.audit().length;
    expect(await runPost({ core: bad.core, ...step('31003') })).toBe('failed');
    expect(bad.events.some((e) => e.startsWith('warning The post step did not ask the broker to revoke anything'))).toBe(true);
    expect(w.audit().length).toBe(before);
    const skip = recordingCore({ ...inputs(), 'skip-revoke': 'true' }, { broker: '{"leases":["abcdefghijklmnopqrst"]}' });
    expect(await runPost({ core: skip.core, ...step('31003') })).toBe('skipped');
    expect(w.audit().length).toBe(before);
  });

  it('preflight: the decision from /v1/check; a refusal fails the step naming the claim; nothing minted', async () => {
    const rows = w.ledgerRows().length;
    const ok = recordingCore({ ...inputs(), preflight: 'true' });
    await runPreflight({ core: ok.core, ...step('31004') });
    expect(ok.events.some((e) => e.startsWith('failed'))).toBe(false);
    expect(ok.events.find((e) => e.startsWith('info [PASS] policy:'))).toContain('policy release matches this job');
    const refused = recordingCore({ ...inputs(), preflight: 'true', 'broker-policy': 'production' });
    await runPreflight({ core: refused.core, ...step('31004') });
    expect(refused.events.find((e) => e.startsWith('info [FAIL] policy:'))).toContain('environment (expected production, token has none)');
    expect(refused.events.find((e) => e.startsWith('failed'))).toContain('Preflight: 1 check(s) failed (policy)');
    expect(w.ledgerRows().length).toBe(rows);
  });

  /** The real broker behind a seam that answers the first mint as a draining replica does (broker/server.ts, 'stopping'). */
  function oneBusyAnswer(retryAfter: string) {
    const sent: { lease: string; bearer: string }[] = [];
    let first = true;
    const createHttp = (o: HttpOptions): HttpClient => {
      const real = createHttpClient({ ...o, ca: serviceTrust(w.caPem) });
      return {
        async send(m, p, b, t) {
          if (!p.endsWith('/v1/credentials')) return real.send(m, p, b, t);
          sent.push({ lease: (b as { lease: string }).lease, bearer: o.headers.authorization ?? '' });
          if (!first) return real.send(m, p, b, t);
          first = false;
          return { status: 503, headers: { 'retry-after': retryAfter }, body: { error: { code: 'stopping', message: 'this broker is stopping; send the request again (another replica takes it)' } } };
        },
        close: () => real.close(),
      };
    };
    return { createHttp, sent };
  }

  it('main: a 503 that says nothing was minted (a replica stopping for a deploy) is asked again after its Retry-After, with a fresh OIDC token and lease (issue 28)', async () => {
    const s = step('31005');
    const busy = oneBusyAnswer('1');
    const { core, events, state } = recordingCore(inputs());
    const start = clock.now();
    await runMain({ core, ...s, createHttp: busy.createHttp });
    expect(busy.sent).toHaveLength(2);
    // A token is used once (the broker refuses a replay) and the first lease is never reused.
    expect(busy.sent[1]!.bearer).not.toBe(busy.sent[0]!.bearer);
    expect(busy.sent[1]!.lease).not.toBe(busy.sent[0]!.lease);
    expect(clock.now() - start).toBeGreaterThanOrEqual(1000);
    expect(events.some((e) => e.startsWith('info The broker at ') && e.includes('(503 stopping)') && e.includes('asking again in 1 s'))).toBe(true);
    expect(JSON.parse(state.broker!).leases).toEqual([busy.sent[1]!.lease]);
    const token = events.find((e) => e.startsWith('output token='))!.slice('output token='.length);
    expect(await statusWith(w.emu, token)).toBe(200);
    const post = recordingCore(inputs(), state);
    expect(await runPost({ core: post.core, ...step('31005') })).toBe('revoked');
    expect(await statusWith(w.emu, token)).toBe(401);
  });

  it('main: a Retry-After the step\'s budget cannot wait out fails at once, saying when to try again; nothing to revoke', async () => {
    const s = step('31006');
    const busy = oneBusyAnswer('120');
    const { core, state } = recordingCore(inputs());
    await expect(runMain({ core, ...s, createHttp: busy.createHttp })).rejects.toThrow(/refused \(503 stopping\).*Try again in 120 s/);
    expect(busy.sent).toHaveLength(1);
    expect(JSON.parse(state.broker!).leases).toEqual([]);
  });
});
