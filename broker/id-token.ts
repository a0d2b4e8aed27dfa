/**
 * Verifying a job's GitHub OIDC token. jose checks the signature (RS256 only) against the issuer's JWKS; the
 * claims are checked here, each in one place, against the broker's one clock:
 * - `iss` is the configured issuer (https://token.actions.githubusercontent.com, or a GHES/enterprise one),
 * - `aud` is this broker's own audience (a token minted for another service is not ours to accept),
 * - `exp`, `nbf`, `iat` within a small skew,
 * - the claims a credential is bound to are present (repository and owner ids, run id and attempt, jti).
 * Replay (`jti` seen before) is the ledger's check, after this one.
 *
 * The JWKS is fetched over HTTPS (src/platform/http.ts, TLS verified) and cached; a token signed with a key id the cached set
 * lacks triggers one refetch (GitHub rotates keys), at most once per cool-down, so forged kids cannot make the broker
 * hammer the issuer.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors, type CryptoKey, type JSONWebKeySet } from 'jose';
import type { Clock } from '../src/platform/clock.js';
import type { HttpClient } from '../src/platform/http.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const MAX_TOKEN_BYTES = 16 * 1024;

/** Why a token was not accepted; `reason` is safe to return to the caller (it names checks, never the token). */
export class TokenRefused extends Error {
  constructor(
    readonly reason: string,
    readonly code: 'invalid_token' | 'replayed_token' = 'invalid_token',
  ) {
    super(reason);
    this.name = 'TokenRefused';
  }
}

/** The claims the broker binds credentials to, read as the strings GitHub sends. */
export interface JobClaims {
  repository: string;
  repository_id: string;
  repository_owner_id: string;
  run_id: string;
  run_attempt: string;
  /** The job's check run (github.com and GHEC tokens since 2025-11-13); '' when the token has none (GHES). */
  check_run_id: string;
  jti: string;
  exp: number;
  /** Every claim of the token, for the policy (all GitHub claims are strings but aud/exp/iat/nbf). */
  all: Record<string, unknown>;
}

export interface JwksOptions {
  url: string;
  http: HttpClient;
  clock: Clock;
  /** A cached set older than this is fetched again on next use. */
  maxAgeMs?: number;
  /** At most one fetch per this long (unknown-kid refetches included). */
  cooldownMs?: number;
}

export class Jwks {
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = new Set<string>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  /** Fetches made (for tests and the audit of a rotation). */
  fetches = 0;

  constructor(private readonly o: JwksOptions) {}

  private async fetch(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const res = await this.o.http.send('GET', this.o.url, undefined, 10_000);
        const body = res.body as JSONWebKeySet | undefined;
        if (res.status !== 200 || !body || !Array.isArray(body.keys)) throw new Error(`the issuer's JWKS answered ${res.status} without a key set`);
        this.keys = createLocalJWKSet(body);
        this.kids = new Set(body.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
        this.fetches++;
      } finally {
        this.fetchedAt = this.o.clock.now();
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  private canFetch(): boolean {
    return this.o.clock.now() - this.fetchedAt >= (this.o.cooldownMs ?? 30_000);
  }

  /** The verification key for a token header: from the cache, or after one refetch for a kid not yet seen. */
  async key(header: { alg?: string; kid?: string }): Promise<CryptoKey> {
    const stale = this.o.clock.now() - this.fetchedAt > (this.o.maxAgeMs ?? 600_000);
    const unknownKid = header.kid !== undefined && !this.kids.has(header.kid);
    if (!this.keys || ((stale || unknownKid) && this.canFetch())) {
      try {
        await this.fetch();
      } catch (err) {
        // A failed refresh keeps the last good set; without one nothing can be verified.
        if (!this.keys) throw new TokenRefused(`the issuer's keys could not be fetched (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    if (!this.keys) throw new TokenRefused("the issuer's keys are not available");
    try {
      return (await this.keys(header as never)) as CryptoKey;
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) throw new TokenRefused(`the signing key${header.kid ? ` (kid ${header.kid.slice(0, 80)})` : ''} is not in the issuer's JWKS`);
      throw new TokenRefused(`no usable key in the issuer's JWKS (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}

export interface VerifyOptions {
  issuer: string;
  audience: string;
  skewSeconds: number;
  jwks: Jwks;
  clock: Clock;
}

const REQUIRED_IDS = ['repository_id', 'repository_owner_id', 'run_id', 'run_attempt'] as const;

export async function verifyIdToken(token: string, o: VerifyOptions): Promise<JobClaims> {
  if (token.length > MAX_TOKEN_BYTES || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new TokenRefused('not a JWT (header.payload.signature)');
  let header: { alg?: string; kid?: string };
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenRefused('the JWT header is not readable');
  }
  // RS256 only: GitHub signs with it, and taking the algorithm from the token is how `none` and HS256-keyed-with-
  // the-public-key forgeries get in.
  if (header.alg !== 'RS256') throw new TokenRefused(`alg ${String(header.alg).slice(0, 20)} is not accepted (RS256 only)`);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, (h) => o.jwks.key(h), { algorithms: ['RS256'] }));
  } catch (err) {
    if (err instanceof TokenRefused) throw err;
    throw new TokenRefused(err instanceof errors.JWSSignatureVerificationFailed ? 'the signature does not verify with the issuer\'s key' : `the token does not verify (${(err as { code?: string }).code ?? 'unknown'})`);
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    throw new TokenRefused('the JWT payload is not JSON');
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new TokenRefused('the JWT payload is not a claims object');

  if (claims.iss !== o.issuer) throw new TokenRefused(`iss is not the trusted issuer (expected ${o.issuer})`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(o.audience)) throw new TokenRefused(`aud does not name this broker (expected ${o.audience}; request the token with that audience)`);
  const now = o.clock.now() / 1000;
  const skew = o.skewSeconds;
  for (const t of ['exp', 'iat'] as const) if (typeof claims[t] !== 'number') throw new TokenRefused(`${t} is missing`);
  const exp = claims.exp as number;
  if (now > exp + skew) throw new TokenRefused(`the token expired at ${new Date(exp * 1000).toISOString()}`);
  if (typeof claims.nbf === 'number' && now < claims.nbf - skew) throw new TokenRefused(`the token is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  if (typeof claims.nbf !== 'number' && claims.nbf !== undefined) throw new TokenRefused('nbf is not a time');
  if ((claims.iat as number) > now + skew) throw new TokenRefused('iat is in the future');

  for (const c of REQUIRED_IDS) if (typeof claims[c] !== 'string' || !/^\d{1,20}$/.test(claims[c])) throw new TokenRefused(`${c} is missing or not an id`);
  if (typeof claims.repository !== 'string' || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(claims.repository)) throw new TokenRefused('repository is missing');
  if (typeof claims.jti !== 'string' || !claims.jti || claims.jti.length > 128) throw new TokenRefused('jti is missing');
  if (claims.check_run_id !== undefined && (typeof claims.check_run_id !== 'string' || !/^\d{1,20}$/.test(claims.check_run_id))) throw new TokenRefused('check_run_id is not an id');
  return {
    repository: claims.repository,
    repository_id: claims.repository_id as string,
    repository_owner_id: claims.repository_owner_id as string,
    run_id: claims.run_id as string,
    run_attempt: claims.run_attempt as string,
    check_run_id: (claims.check_run_id as string | undefined) ?? '',
    jti: claims.jti,
    exp,
    all: claims,
  };
}
