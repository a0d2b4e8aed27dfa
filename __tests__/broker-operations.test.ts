/**
 * The broker's operational side: liveness and readiness, Prometheus metrics counting what it did, and a stop that
 * refuses new mints (503 + Retry-After) while it finishes those under way.
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, newLease, startWorld, type BrokerWorld } from './support/broker.js';

/** One sample's value from Prometheus text, e.g. metric('d1_broker_mints_total{outcome="granted"}'). */
const sample = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe.skipIf(!hasSqlite)('broker operations', () => {
  let w: BrokerWorld;
  beforeAll(async () => {
    w = await startWorld({ config: { maxAgeMinutes: 60 } });
  }, 60_000);
  afterAll(async () => w?.close());

  it('/healthz: alive; /readyz: the ledger answers and the issuer\'s keys are loaded', async () => {
    expect(await w.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await w.call('GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { ledger: 'ok', jwks: 'ok' } } });
  });

  it('/metrics counts mints, revocations, refusals, sweeps, DigiCert ONE latency and its 429s, ledger latency', async () => {
    const a = await w.mint(w.token({ run_id: '31337' }));
    expect(a.status).toBe(201);
    expect((await w.call('POST', '/v1/credentials', 'not-a-token', { policy: 'release', lease: newLease() })).status).toBe(401);
    expect((await w.call('POST', '/v1/revoke', w.token({ run_id: '31337' }), { leases: [a.body.lease] })).status).toBe(200);
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'status', status: 429, retryAfter: '0' });
    await w.mint(w.token());
    await w.broker!.sweep();
    const agent = new Agent({ connect: { ca: w.pki.ca.certPem } });
    const m = await agent.request({ origin: w.url, path: '/metrics', method: 'GET' });
    const text = await m.body.text();
    await agent.close();
    expect(m.statusCode).toBe(200);
    expect(String(m.headers['content-type'])).toMatch(/^text\/plain/);
    expect(sample(text, 'd1_broker_mints_total{outcome="granted"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'd1_broker_refusals_total{code="invalid_token"}')).toBe(1);
    expect(sample(text, 'd1_broker_revocations_total{by="job",outcome="revoked"}')).toBe(1);
    expect(sample(text, 'd1_broker_sweeps_total{result="swept"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'd1_broker_digicert_rate_limited_total')).toBe(1);
    expect(sample(text, 'd1_broker_digicert_request_seconds_count{method="POST",status="2xx"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'd1_broker_digicert_request_seconds_count{method="DELETE",status="2xx"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'd1_broker_ledger_seconds_count{op="firstUse",result="ok"}')).toBeGreaterThanOrEqual(3);
    // Never a secret, a repository or a lease in a label.
    expect(text).not.toContain(String(a.body.token));
    expect(text).not.toContain('octo-org');
    expect(text).not.toContain(String(a.body.lease));
  });

  it('a stop refuses new mints with 503 and Retry-After, finishes the one under way, then closes', async () => {
    w.emu.fault({ method: 'POST', path: /api-access-token$/, kind: 'delay', ms: 800 });
    const before = w.emu.requests.length;
    const underWay = w.mint(w.token());
    while (w.emu.requests.length === before) await new Promise((r) => setTimeout(r, 5));
    const broker = w.broker!;
    const stopped = broker.close();
    const refused = await w.mint(w.token());
    expect([refused.status, refused.headers['retry-after'], (refused.body.error as { code: string }).code]).toEqual([503, '1', 'stopping']);
    expect((await w.call('GET', '/readyz')).status).toBe(503);
    // A job's post step is still served while the broker stops.
    expect((await w.call('POST', '/v1/revoke', w.token(), { leases: [newLease()] })).status).toBe(200);
    const finished = await underWay;
    expect(finished.status).toBe(201);
    await stopped;
    w.broker = undefined;
    expect(await w.call('GET', '/healthz').catch((e: unknown) => e)).toBeInstanceOf(Error);
    await w.startBroker();
    expect((await w.call('POST', '/v1/revoke', w.token(), { leases: [finished.body.lease] })).status).toBe(403); // another run
  });
});
