/**
 * When and how long to wait before asking DigiCert ONE again. Retry 429 and 503 (honouring Retry-After, in
 * seconds or as an HTTP date), other 5xx and connection failures, with capped exponential backoff and jitter;
 * never a 4xx that says the request itself is wrong. Every wait fits inside one deadline for the whole step.
 */
export const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** Failures where the request certainly did not reach the service: safe to repeat even a create. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Failures after which the request may or may not have been processed. */
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

export type NetworkFailure = 'not-sent' | 'maybe-sent' | 'permanent';

export function classifyNetworkCode(code: string): NetworkFailure {
  if (NOT_SENT_CODES.has(code)) return 'not-sent';
  if (MAYBE_SENT_CODES.has(code)) return 'maybe-sent';
  return 'permanent';
}

/** 429 and 503 say the service did not act on the request; a 500/502/504 may have come after it did. */
export function statusMaybeCommitted(status: number): boolean {
  return status === 500 || status === 502 || status === 504;
}

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 10_000;

/**
 * After a 429 or 503 that names Retry-After: that moment, plus a random spread of up to RETRY_AFTER_SPREAD_MS drawn
 * from the step's Clock, so jobs refused together do not come back together. Runners sharing one bootstrap key that
 * were refused in the same second would otherwise all return on the second Retry-After names, and all but the limit
 * be refused again (1000 jobs against 50 requests/s: 14 refusals per job with the former 1 s of jitter, 5 with 6 s).
 * A wider spread refuses fewer (3 per job with 10 s) but leaves the server idle while the last jobs wait, and the
 * run ends later; 6 s is the widest whose 1000-job run stayed within 1.2x the minimum time. One window for every
 * retry: a window that grew with each refusal left the unlucky jobs waiting longest. Measurements: bench/README.md.
 */
export const RETRY_AFTER_SPREAD_MS = 6000;
/** A retry is worth sending only with this much of the step's budget left for its own answer. */
export const RETRY_RESERVE_MS = 1000;

/** Parsed where the header is read, at the wire boundary. */
export { parseRetryAfter } from './wire.js';
export type { Clock } from '../platform/clock.js';

/**
 * How long to wait after a 429/503 that said Retry-After (`retryAfterMs`), with `leftMs` of the step's budget left:
 * Retry-After plus `random()` (the step's Clock) times the spread window, the window cut so that the retry still has
 * RETRY_RESERVE_MS for its answer. undefined when Retry-After itself reaches the deadline: give up.
 */
export function retryAfterWaitMs(retryAfterMs: number, leftMs: number, random: () => number): number | undefined {
  if (retryAfterMs >= leftMs) return undefined;
  const window = Math.max(0, Math.min(RETRY_AFTER_SPREAD_MS, leftMs - RETRY_RESERVE_MS - retryAfterMs));
  return retryAfterMs + Math.floor(window * random());
}

export function backoffMs(attempt: number, random: () => number): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  // "Equal jitter": at least half the step, so a crowd of runners spreads out without retrying at once.
  return Math.round(exp / 2 + (exp / 2) * random());
}

