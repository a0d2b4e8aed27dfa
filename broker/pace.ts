/**
 * One pace for DigiCert ONE: its rate limit is per API key, and every replica uses the same bootstrap key, so the
 * replicas draw their requests from one token bucket in the ledger (`digicert`, Ledger.takeToken) instead of each
 * finding the limit by its 429s. A mint's request waits for its token while its deadline allows, else the job is
 * answered 503 with Retry-After (nothing sent, so nothing to clean up); a revocation's request (DELETE) may take the
 * last tokens, which mints leave to it (the reserve), so revocations are paced but never starved by mints.
 *
 * Only requests made with the bootstrap credential are paced: a certificate's request goes with the job's own new
 * token, a key of its own.
 */
import type { Clock } from '../src/platform/clock.js';
import type { HttpClient } from '../src/platform/http.js';
import type { Ledger } from './ledger.js';

export interface PaceConfig {
  /** Requests a second the bootstrap key may send, all replicas together (below DigiCert ONE's limit for it). */
  perSecond: number;
  /** How many may go at once after a quiet spell. */
  burst: number;
  /** Tokens mints leave for revocations (default: a fifth of the burst, at least 1). */
  revocationReserve: number;
}

/** A mint that cannot get its turn at DigiCert ONE within its deadline: the job is told when to try again. */
export class PaceRefusal extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`DigiCert ONE's request budget for the bootstrap key is spent for now; try again in ${retryAfterSeconds} s`);
    this.name = 'PaceRefusal';
  }
}

export class DigicertPace {
  constructor(
    private readonly o: PaceConfig,
    private readonly ledger: Pick<Ledger, 'takeToken'>,
    private readonly clock: Clock,
  ) {}

  /** Waits for one request's token; a mint's request gives up (PaceRefusal) when the wait would pass `deadline`. */
  async take(kind: 'mint' | 'revoke', deadline: number): Promise<void> {
    const perMs = this.o.perSecond / 1000;
    // A mint sees the bucket as if the reserve were not there: it takes only what is above it.
    const reserve = kind === 'mint' ? this.o.revocationReserve : 0;
    for (;;) {
      const wait = await this.ledger.takeToken('digicert', perMs, this.o.burst, this.clock.now(), reserve);
      if (wait === 0) return;
      if (kind === 'mint' && this.clock.now() + wait > deadline) throw new PaceRefusal(Math.max(1, Math.ceil(wait / 1000)));
      // Real time, not the broker's clock: other replicas refill nothing; only time does.
      await new Promise((res) => setTimeout(res, Math.min(wait, 1000)));
    }
  }

  /**
   * The bootstrap identity's client, each request paced: DELETE as a revocation, anything else as a mint's. Only a
   * client's first request may be refused: once one went out, a create may be under way, and giving up on the
   * requests that find out (a recovery's listing) could leave a credential nobody knows of; those wait their turn.
   */
  client(http: HttpClient, deadline: number): HttpClient {
    let sent = false;
    return {
      send: async (method, path, body, timeoutMs) => {
        await this.take(method === 'DELETE' || sent ? 'revoke' : 'mint', deadline);
        sent = true;
        return http.send(method, path, body, timeoutMs);
      },
      close: () => http.close(),
    };
  }
}
