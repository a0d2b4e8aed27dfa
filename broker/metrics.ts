/**
 * The broker's Prometheus metrics (GET /metrics, text format, prom-client): what it minted, revoked and refused, its
 * sweeps, and the latency of what it waits on (DigiCert ONE, the ledger), with DigiCert ONE's 429s counted apart.
 * A registry per broker (not prom-client's global one), so brokers in one process (tests) do not share counts.
 * Labels are closed sets (outcomes, codes, method names): never a repository, a lease or a name.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { HttpClient } from '../src/platform/http.js';
import type { Ledger } from './ledger.js';

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly mints = new Counter({ name: 'd1_broker_mints_total', help: 'Mint requests by outcome (granted, failed)', labelNames: ['outcome'], registers: [this.registry] });
  readonly revocations = new Counter({ name: 'd1_broker_revocations_total', help: 'Credentials revoked, by who asked (job, sweeper) and outcome (revoked, gone, failed)', labelNames: ['by', 'outcome'], registers: [this.registry] });
  readonly refusals = new Counter({ name: 'd1_broker_refusals_total', help: 'Requests refused, by reason (the error code answered)', labelNames: ['code'], registers: [this.registry] });
  readonly sweeps = new Counter({ name: 'd1_broker_sweeps_total', help: "Sweeps by this replica, by whether it held the sweeper's turn (swept, not-my-turn)", labelNames: ['result'], registers: [this.registry] });
  readonly digicert = new Histogram({
    name: 'd1_broker_digicert_request_seconds',
    help: 'DigiCert ONE request latency, by method and status class',
    labelNames: ['method', 'status'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly digicertRateLimited = new Counter({ name: 'd1_broker_digicert_rate_limited_total', help: 'DigiCert ONE answers 429 (its rate limit, per API key)', registers: [this.registry] });
  readonly ledger = new Histogram({
    name: 'd1_broker_ledger_seconds',
    help: 'Ledger call latency, by operation and result',
    labelNames: ['op', 'result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  /** An HTTP client whose requests to DigiCert ONE are timed and their 429s counted. */
  digicertClient(http: HttpClient): HttpClient {
    return {
      send: async (method, path, body, timeoutMs) => {
        const end = this.digicert.startTimer({ method });
        try {
          const res = await http.send(method, path, body, timeoutMs);
          end({ status: `${Math.floor(res.status / 100)}xx` });
          if (res.status === 429) this.digicertRateLimited.inc();
          return res;
        } catch (err) {
          end({ status: 'error' });
          throw err;
        }
      },
      close: () => http.close(),
    };
  }

  /** The same ledger, each call timed. */
  timedLedger(ledger: Ledger): Ledger {
    const h = this.ledger;
    return new Proxy(ledger, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function' || prop === 'close') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const end = h.startTimer({ op: String(prop) });
          try {
            const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            end({ result: 'ok' });
            return r;
          } catch (err) {
            end({ result: 'error' });
            throw err;
          }
        };
      },
    });
  }
}
