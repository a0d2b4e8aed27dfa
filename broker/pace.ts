/**
 * One pace for DigiCert ONE: its rate limit is per API key, and every replica uses the same bootstrap key, so the
 * replicas draw their requests from one token bucket in the ledger (`digicert`, Ledger.takeToken) instead of each
 * finding the limit by its 429s: one schedule (Ledger.bookSlot), each request booking its own slot. A mint's request
 * waits for its slot while its deadline allows, else the job is answered 503 with Retry-After (nothing sent, so
 * nothing to clean up); a revocation's request (DELETE) is never refused, only scheduled.
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
}

/** A mint that cannot get its turn at DigiCert ONE within its deadline: the job is told when to try again. */
export class PaceRefusal extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`DigiCert ONE's request budget for the bootstrap key is booked for the next ${retryAfterSeconds} s; try again then`);
    this.name = 'PaceRefusal';
  }
}

export class DigicertPace {
  constructor(
    private readonly o: PaceConfig,
    private readonly ledger: Pick<Ledger, 'bookSlot'>,
    private readonly clock: Clock,
  ) {}

  /**
   * Books a slot in the one schedule of all replicas and waits for it: a mint's request only within its deadline
   * (else PaceRefusal, nothing booked), a revocation's always (its wait is bounded by the mints booked before it,
   * which are bounded by their deadlines).
   */
  async take(kind: 'mint' | 'revoke', deadline: number): Promise<void> {
    const now = this.clock.now();
    const wait = await this.ledger.bookSlot('digicert', 1000 / this.o.perSecond, this.o.burst, now, kind === 'mint' ? Math.max(0, deadline - now) : Number.POSITIVE_INFINITY);
    if (wait === undefined) throw new PaceRefusal(Math.max(1, Math.ceil((deadline - now) / 1000)));
    // Real time: the slot is a moment in the schedule all replicas share.
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
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
