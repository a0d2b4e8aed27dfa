/**
 * Per-repository rate limit (a token bucket per repository id, on the broker's clock): one repository's runaway
 * matrix cannot spend the bootstrap identity's DigiCert ONE rate limit (which is per API key) for everyone else.
 * Revocations are not limited: a post step must always be able to clean up.
 *
 * The buckets are rows of the ledger (Ledger.takeToken), so replicas on one PostgreSQL share them: a repository gets
 * its rate from the service, not that rate from each replica.
 */
import type { Clock } from '../src/platform/clock.js';
import type { Ledger } from './ledger.js';

export class RateLimiter {
  constructor(
    private readonly o: { perMinute: number; burst: number },
    private readonly clock: Clock,
    private readonly ledger: Pick<Ledger, 'takeToken'>,
  ) {}

  /** Takes one request's worth; 0 when allowed, else the milliseconds until one is. */
  take(key: string): Promise<number> {
    return this.ledger.takeToken(`repository:${key}`, this.o.perMinute / 60_000, this.o.burst, this.clock.now());
  }
}
