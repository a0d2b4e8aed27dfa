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
export const RETRY_AFTER_JITTER_MS = 1000;

/** Parsed where the header is read, at the wire boundary. */
export { parseRetryAfter } from './d1-wire.js';
export type { Clock } from './clock.js';

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  // "Equal jitter": at least half the step, so a crowd of runners spreads out without retrying at once.
  return Math.round(exp / 2 + (exp / 2) * random());
}

