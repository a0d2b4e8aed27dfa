/**
 * Per-repository rate limit (a token bucket per repository id, on the broker's clock): one repository's runaway
 * matrix cannot spend the bootstrap identity's DigiCert ONE rate limit (which is per API key) for everyone else.
 * Revocations are not limited: a post step must always be able to clean up.
 */
import type { Clock } from '../src/platform/clock.js';

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly o: { perMinute: number; burst: number },
    private readonly clock: Clock,
  ) {}

  /** Takes one request's worth; 0 when allowed, else the milliseconds until one is. */
  take(key: string): number {
    const now = this.clock.now();
    const perMs = this.o.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.o.burst, at: now };
    b.tokens = Math.min(this.o.burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / perMs);
  }
}
