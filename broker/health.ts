/**
 * The broker's operational endpoints, without a token (they say nothing about any job):
 *   GET /healthz  200 while the process serves (liveness: restart it when this fails)
 *   GET /readyz   200 when the ledger answers and the issuer's keys are loaded, 503 otherwise or while stopping
 *                 (readiness: send it no jobs then)
 *   GET /metrics  Prometheus text (broker/metrics.ts)
 */
import type { Jwks } from './id-token.js';
import type { Ledger } from './ledger.js';
import type { BrokerMetrics } from './metrics.js';

export interface Operational {
  ledger: Ledger;
  jwks: Jwks;
  metrics: BrokerMetrics;
  draining: () => boolean;
}

export type OperationalAnswer = { status: number; contentType: string; body: string; headers?: Record<string, string> };

const json = (status: number, v: unknown, headers?: Record<string, string>): OperationalAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(v), headers });

/** The answer to an operational route, or undefined for any other route. */
export async function operational(route: string, o: Operational): Promise<OperationalAnswer | undefined> {
  if (route === 'GET /healthz') return json(200, { status: 'ok' });
  if (route === 'GET /metrics') return { status: 200, contentType: o.metrics.registry.contentType, body: await o.metrics.registry.metrics() };
  if (route !== 'GET /readyz') return undefined;
  const checks: Record<string, string> = {};
  try {
    await o.ledger.ping();
    checks.ledger = 'ok';
  } catch (err) {
    checks.ledger = err instanceof Error ? err.message : String(err);
  }
  if (o.jwks.fetches === 0) await o.jwks.key({}).catch(() => undefined);
  checks.jwks = o.jwks.fetches > 0 ? 'ok' : "the issuer's keys are not loaded";
  if (o.draining()) checks.stopping = 'this broker is stopping';
  const ready = Object.values(checks).every((v) => v === 'ok');
  return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks }, ready ? undefined : { 'retry-after': '5' });
}
