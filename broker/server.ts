/**
 * The broker's HTTPS API. Every request carries the job's GitHub OIDC token as a bearer; nothing is decided before
 * it verifies (id-token.ts) and its jti is recorded once (a replay is refused).
 *
 * POST /v1/credentials {policy, lease, job?, csr?} → the policy's grant, minted (201), or why not (403: naming the
 *   claims that did not match only to the policy's own repository; GENERIC_REFUSAL to everyone else). `lease` is the
 *   job's own random request id (scoped by repository id), recorded before anything is created, so the job's post step
 *   can name what to revoke even when this answer never reached it.
 * POST /v1/revoke {leases: [...]} → revokes what was minted for those leases, when the token's repository (by id), run
 *   and attempt (and check_run_id, when the lease has one) are the lease's; nothing else.
 * The bearer is verified before a body is read (docs/broker-openapi.yaml documents these routes).
 * POST /v1/check {policy, csr?: true} → the decision and what would be minted; mints nothing.
 * GET /healthz → 200 when the ledger answers.
 *
 * One audit line (JSON) per decision: the claims that decided, the policy, what was minted or revoked; never a secret.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, dateOf } from '../src/platform/clock.js';
import { D1Error } from '../src/d1/client.js';
import { utcDayOf } from '../src/d1/wire.js';
import { serviceTrust, type HttpClient, type HttpOptions } from '../src/platform/http.js';
import { InputError } from '../src/platform/input-error.js';
import { repoTokenPrefix } from '../src/credentials/naming.js';
import { redact } from '../src/platform/text-safety.js';
import { loadPolicies, type BrokerConfig } from './config.js';
import { mintFor, revokeRows, type CredentialDeps, type Minted, type RevokeOutcome } from './credentials.js';
import { Jwks, TokenRefused, verifyIdToken, type JobClaims } from './id-token.js';
import { LedgerUnavailable, type Ledger } from './ledger.js';
import { operational } from './health.js';
import { BrokerMetrics } from './metrics.js';
import { openLedger } from './open-ledger.js';
import { decide, MATCHABLE_CLAIMS, type Mismatch, type Policy } from './policy.js';
import { DigicertPace, PaceRefusal } from './pace.js';
import { RateLimiter } from './rate-limit.js';
import { ReplicaPresence, settledElsewhere } from './replica.js';

export interface AuditEntry {
  event: 'mint' | 'check' | 'revoke' | 'sweep' | 'refused' | 'reload';
  [key: string]: unknown;
}

export interface BrokerDeps {
  config: BrokerConfig;
  clock: Clock;
  createHttp: (o: HttpOptions) => HttpClient;
  /** One JSON line per decision (the entry point writes it to a file or stdout). */
  audit: (line: string) => void;
  /** Operational messages (stderr). */
  log: (line: string) => void;
}

export interface Broker {
  readonly url: string;
  readonly port: number;
  readonly ledger: Ledger;
  readonly jwks: Jwks;
  /** This broker's id among the replicas on its ledger. */
  readonly replica: string;
  /** The sweep run at start-up (what an earlier process left is revoked before anything else waits on it). */
  readonly initialSweep: Promise<RevokeOutcome[]>;
  sweep(): Promise<RevokeOutcome[]>;
  /** Reads the policy and TLS files again (SIGHUP); a bad file keeps the ones in use, and says why. */
  reload(): { ok: true; policies: number } | { ok: false; why: string };
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
/** The routes the broker answers (docs/broker-openapi.yaml documents exactly these; a test compares them). */
export const ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /v1/credentials', 'POST /v1/revoke', 'POST /v1/check'] as const;
const LEASE = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_LEASES = 8;

/** A refusal: `message` and `shown` go to the caller; `extra` (the claims, the detail) only to the audit log. */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    readonly shown: Record<string, unknown> = {},
    /** False when the audit log itself failed (nothing more is written to it for this request). */
    readonly audited = true,
  ) {
    super(message);
  }
}

/**
 * The one answer for a job the broker does not explain itself to: a stranger to the named policy (another repository or
 * owner by id), and a policy name this broker does not have. Same code, same words, no value of any policy: the
 * audience is public, so any repository can get a token that verifies, and must learn nothing from the answer (which
 * names exist, which ids, refs or environments a policy expects). The audit log keeps the detail.
 */
export const GENERIC_REFUSAL = {
  code: 'policy_refused',
  message: 'no policy of this broker by that name admits this job (the broker\'s operator can see why in its audit log)',
} as const;

/** The claims that decide, as the audit log keeps them (GitHub's claims are not secret; the token itself is). */
const DECIDING: readonly string[] = [...new Set(['repository', 'repository_id', 'repository_owner_id', 'run_id', 'run_attempt', 'check_run_id', ...MATCHABLE_CLAIMS, 'jti'])];
/** Every claim a policy can decide on, and those a credential is bound to. */
function decidingClaims(c: JobClaims): Record<string, unknown> {
  return Object.fromEntries(DECIDING.filter((k) => c.all[k] !== undefined).map((k) => [k, c.all[k]]));
}

/** The body, read only after the bearer verified (a stranger cannot make the broker buffer anything). */
function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > MAX_BODY) {
        // Stop reading and answer: the 413 goes out with `connection: close`, then the socket is closed (destroying
        // the request first would reset the connection before the answer, and the job would see a reset).
        req.off('data', onData);
        req.pause();
        reject(new HttpRefusal(413, 'invalid_request', `the body is larger than ${MAX_BODY} bytes`, {}, { connection: 'close' }));
      } else chunks.push(c);
    };
    req.on('data', onData);
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) resolve(v as Record<string, unknown>);
        else reject(new HttpRefusal(400, 'invalid_request', 'the body must be a JSON object'));
      } catch {
        reject(new HttpRefusal(400, 'invalid_request', 'the body is not JSON'));
      }
    });
  });
}

function describeMinted(m: Minted): Record<string, unknown>[] {
  return [
    { kind: m.kind, id: m.id, name: m.name, userId: m.userId, endDate: m.endDate, ...(m.scope.length ? { scope: m.scope } : {}) },
    ...(m.certificate ? [{ kind: 'client-certificate', id: m.certificate.id, userId: m.userId, endDate: m.endDate }] : []),
  ];
}

/**
 * Leases are scoped by repository id: the ledger's key is `<repository_id>:<lease>`, so a lease id another repository
 * chose first (or guessed) is not this one's, and a revoke can only ever reach its own repository's leases.
 */
const leaseKey = (claims: JobClaims, lease: string): string => `${claims.repository_id}:${lease}`;
const leaseOf = (key: string): string => key.replace(/^\d+:/, '');

/**
 * Why a lease is not this job's to revoke: the token's repository (by id), run and attempt must be the lease's; and
 * when the lease was made by a token with `check_run_id` (github.com), the token must be of that very job. Without it
 * (GHES tokens have none), any job of the same run attempt may revoke.
 */
function notOwner(owner: { repositoryId: string; runId: string; runAttempt: string; checkRunId: string }, claims: JobClaims): string[] {
  return [
    owner.repositoryId !== claims.repository_id && 'repository_id',
    owner.runId !== claims.run_id && 'run_id',
    owner.runAttempt !== claims.run_attempt && 'run_attempt',
    owner.checkRunId !== '' && owner.checkRunId !== claims.check_run_id && 'check_run_id',
  ].filter((x): x is string => Boolean(x));
}

const describeRevoked = (r: RevokeOutcome) => ({ kind: r.row.kind, id: r.row.id, name: r.row.name, lease: leaseOf(r.row.lease), outcome: r.outcome, ...(r.outcome === 'failed' ? { why: r.why } : {}) });

export async function startBroker(deps: BrokerDeps): Promise<Broker> {
  const { config, clock } = deps;
  const metrics = new BrokerMetrics();
  const ledger: Ledger = metrics.timedLedger(await openLedger(config, deps.log));
  const env = process.env;
  const outbound = (o: Omit<HttpOptions, 'env' | 'ca'>): HttpClient => deps.createHttp({ ...o, env, ca: serviceTrust(config.extraCaPem) });
  const jwksHttp = outbound({ baseUrl: config.jwksUrl, headers: { 'user-agent': 'd1-token-broker' } });
  const jwks = new Jwks({ url: config.jwksUrl, http: jwksHttp, clock });
  const limiter = new RateLimiter(config.rateLimit, clock, ledger);
  const presence = new ReplicaPresence(ledger, clock, { heartbeatMs: config.heartbeatMs, sweepIntervalMs: config.sweepIntervalMs, log: deps.log });
  await presence.beat();
  presence.start();
  const pace = config.digicertPace ? new DigicertPace(config.digicertPace, ledger, clock) : undefined;
  const credentialDeps: CredentialDeps = { config, ledger, clock, createHttp: (o) => metrics.digicertClient(outbound(o)), log: deps.log, ...(pace ? { pace } : {}) };
  const counted = (results: RevokeOutcome[], by: 'job' | 'sweeper'): RevokeOutcome[] => {
    for (const r of results) metrics.revocations.inc({ by, outcome: r.outcome });
    return results;
  };
  /** Set on close: mints are refused (503) while those under way finish; revocations are still served. */
  let draining = false;
  /** Requests being answered (a stop waits for them). */
  const active = new Set<Promise<void>>();

  const audit = (entry: AuditEntry, extraSecrets: string[] = []): void => {
    // Entries are built from ids, names and claims only; the scrub is the second line, for any text from outside.
    deps.audit(redact(JSON.stringify({ time: dateOf(clock).toISOString(), ...entry }), [...config.secrets, ...extraSecrets]));
  };

  async function authenticate(req: IncomingMessage): Promise<JobClaims> {
    const bearer = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) throw new HttpRefusal(401, 'invalid_token', 'send the job\'s GitHub OIDC token as "Authorization: Bearer <token>"');
    let claims: JobClaims;
    try {
      claims = await verifyIdToken(bearer, { issuer: config.issuer, audience: config.audience, skewSeconds: config.clockSkewSeconds, jwks, clock });
    } catch (err) {
      if (err instanceof TokenRefused) throw new HttpRefusal(401, err.code, `the OIDC token was not accepted: ${err.reason}`);
      throw err;
    }
    if (!(await ledger.firstUse(claims.jti, claims.exp))) {
      throw new HttpRefusal(401, 'replayed_token', 'the OIDC token was not accepted: its jti was used before (request a fresh token for each call)', { claims: decidingClaims(claims) });
    }
    return claims;
  }

  async function limit(claims: JobClaims): Promise<void> {
    const wait = await limiter.take(claims.repository_id);
    if (wait > 0) throw new HttpRefusal(429, 'rate_limited', `too many requests for repository ${claims.repository}; try again in ${Math.ceil(wait / 1000)} s`, { claims: decidingClaims(claims) }, { 'retry-after': String(Math.ceil(wait / 1000)) });
  }

  /** What an audit-mode policy would have refused, by request (for the mint's and the check's audit line). */
  const wouldRefuse = new WeakMap<IncomingMessage, Mismatch[]>();

  function policyFor(req: IncomingMessage, body: Record<string, unknown>, claims: JobClaims, wantsCertificate: boolean): Policy {
    if (typeof body.policy !== 'string' || !body.policy) throw new HttpRefusal(400, 'invalid_request', 'policy (the name of a policy of this broker) is required');
    const d = decide(config.policies, body.policy, claims.all);
    if (d.ok === false && d.code === 'unknown_policy') {
      const detail = `this broker has no policy named '${body.policy.slice(0, 64)}'`;
      throw new HttpRefusal(403, GENERIC_REFUSAL.code, GENERIC_REFUSAL.message, { policy: d.policy.slice(0, 64), detail, claims: decidingClaims(claims) });
    }
    const audited = config.policies.find((p) => p.name === body.policy && p.mode === 'audit');
    if (d.ok === false && d.code === 'policy_refused' && audited && d.mismatches.every((m) => m.claim !== 'repository_id' && m.claim !== 'repository_owner_id')) {
      // Audit mode: the ids are enforced as always; any other claim that differs is logged, not refused.
      wouldRefuse.set(req, d.mismatches);
      return policyAfterMatch(audited, claims, wantsCertificate);
    }
    if (d.ok === false && d.code === 'policy_refused') {
      const list = d.mismatches.map((m) => `${m.claim} (expected ${m.expected.join(' or ')}${m.actual !== undefined ? `, token has ${m.actual}` : ', token has none'})`).join('; ');
      const detail = `policy '${d.policy}' does not match this job: ${list}`;
      const logged = { policy: d.policy, detail, mismatches: d.mismatches, claims: decidingClaims(claims) };
      // Only the policy's own repository (both ids match) is told which claim differs and what was expected.
      if (!ownsPolicy(d.policy, claims)) throw new HttpRefusal(403, GENERIC_REFUSAL.code, GENERIC_REFUSAL.message, logged);
      throw new HttpRefusal(403, 'policy_refused', detail, logged, {}, { policy: d.policy, mismatches: d.mismatches });
    }
    return policyAfterMatch((d as { policy: Policy }).policy, claims, wantsCertificate);
  }

  function policyAfterMatch(policy: Policy, claims: JobClaims, wantsCertificate: boolean): Policy {
    if (wantsCertificate && !policy.clientCertificate) {
      throw new HttpRefusal(403, 'policy_refused', `policy '${policy.name}' does not grant a client certificate (clientCertificate is not true)`, { policy: policy.name, claims: decidingClaims(claims) });
    }
    return policy;
  }

  /** The job is the named policy's repository: its repository_id and repository_owner_id are the policy's. */
  function ownsPolicy(name: string, claims: JobClaims): boolean {
    const m = config.policies.find((p) => p.name === name)?.match;
    return !!m && !!m.repository_id?.includes(claims.repository_id) && !!m.repository_owner_id?.includes(claims.repository_owner_id);
  }

  /** Mints under way, by lease: a revoke for one waits for it (a job whose answer was lost may revoke before it ends). */
  const inflight = new Map<string, Promise<unknown>>();

  async function mint(req: IncomingMessage): Promise<[number, unknown]> {
    const claims = await authenticate(req);
    const body = await readJson(req);
    await limit(claims);
    const csr = body.csr;
    if (csr !== undefined && (typeof csr !== 'string' || csr.length > 16_384 || !/^-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(csr.trim()))) {
      throw new HttpRefusal(400, 'invalid_request', 'csr must be one PEM CERTIFICATE REQUEST');
    }
    const policy = policyFor(req, body, claims, csr !== undefined);
    const lease = body.lease;
    if (typeof lease !== 'string' || !LEASE.test(lease)) throw new HttpRefusal(400, 'invalid_request', 'lease must be the job\'s random request id (16-64 letters, digits, - or _)');
    // The job's own label (GITHUB_JOB) goes into a name and a description, so only plain characters. With the token's
    // check_run_id (the job's own id, github.com) the name carries that too: the label alone is the job's word.
    const label = typeof body.job === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(body.job) ? body.job : 'job';
    const job = claims.check_run_id ? `c${claims.check_run_id}-${label}` : label;
    const key = leaseKey(claims, lease);
    const owner = { repository: claims.repository, repositoryId: claims.repository_id, runId: claims.run_id, runAttempt: claims.run_attempt, checkRunId: claims.check_run_id, policy: policy.name };
    if (!(await ledger.openLease(key, owner, clock.now()))) throw new HttpRefusal(409, 'lease_taken', 'this lease id was used before; send a new random one');
    let minted: Minted;
    const making = mintFor(credentialDeps, { lease: key, policy, claims, job, csrPem: csr as string | undefined });
    inflight.set(key, making.catch(() => undefined));
    try {
      minted = await making;
    } catch (err) {
      // Whatever was made for this lease before the failure is revoked now, not left to the job or the sweeper.
      metrics.mints.inc({ outcome: 'failed' });
      const undone = counted(await revokeRows(credentialDeps, await ledger.openOfLease(key), 'job').catch(() => []), 'job');
      const why = err instanceof Error ? err.message : String(err);
      audit({ event: 'mint', outcome: 'failed', policy: policy.name, lease, claims: decidingClaims(claims), why, undone: undone.map(describeRevoked) });
      // The grant's detail (roles, accounts, the bootstrap user) is the operator's, in the log and the audit line.
      if (err instanceof InputError) {
        deps.log(`lease ${lease}: policy '${policy.name}' cannot be granted: ${redact(why, config.secrets)}`);
        throw new HttpRefusal(500, 'policy_unusable', `policy '${policy.name}' cannot be granted as configured; the broker's operator has the detail in its log`);
      }
      if (err instanceof D1Error) throw new HttpRefusal(502, 'digicert_failed', `DigiCert ONE did not mint: ${why}`);
      throw err;
    } finally {
      inflight.delete(key);
    }
    const audited = wouldRefuse.get(req);
    // The secret's SHA-256 lets a leaked token be traced to this exchange (octo-sts logs the same); never the secret.
    const sha256 = createHash('sha256').update(minted.secret).digest('hex');
    try {
      audit(
        { event: 'mint', outcome: 'granted', policy: policy.name, lease, claims: decidingClaims(claims), minted: describeMinted(minted), sha256, ...(audited ? { mode: 'audit', wouldRefuse: audited } : {}) },
        [minted.secret],
      );
    } catch (err) {
      // A mint the audit log cannot record is not handed out (Vault refuses a request it cannot audit): undone now.
      const undone = await revokeRows(credentialDeps, await ledger.openOfLease(key), 'job').catch(() => []);
      deps.log(`lease ${lease}: the audit log could not be written (${err instanceof Error ? err.message : String(err)}); the mint is refused and what it made revoked (${undone.map((u) => `${u.row.kind} ${u.row.id}: ${u.outcome}`).join(', ')})`);
      throw new HttpRefusal(500, 'internal', 'the broker failed; see its log', {}, {}, {}, false);
    }
    metrics.mints.inc({ outcome: 'granted' });
    return [
      201,
      {
        lease,
        kind: minted.kind,
        token: minted.secret,
        tokenId: minted.kind === 'api-token' ? minted.id : '',
        tokenName: minted.name,
        userId: minted.userId,
        serviceUserId: minted.kind === 'service-user' ? minted.id : '',
        endDate: minted.endDate,
        host: config.digicertHost,
        scope: minted.scope,
        ...(minted.certificate ? { certificate: { id: minted.certificate.id, pem: minted.certificate.pem } } : {}),
      },
    ];
  }

  async function check(req: IncomingMessage): Promise<[number, unknown]> {
    const claims = await authenticate(req);
    const body = await readJson(req);
    await limit(claims);
    let policy: Policy;
    try {
      policy = policyFor(req, body, claims, body.csr === true);
    } catch (err) {
      if (!(err instanceof HttpRefusal) || err.status !== 403) throw err;
      audit({ event: 'check', outcome: 'refused', code: err.code, reason: err.message, ...err.extra });
      return [200, { allowed: false, code: err.code, message: err.message, ...(err.shown.mismatches ? { mismatches: err.shown.mismatches } : {}) }];
    }
    const g = policy.grant;
    const would = {
      kind: g.kind === 'service-user' ? 'api-token' : 'service-user',
      ...(g.kind === 'service-user' ? { serviceUserId: g.serviceUserId } : { scope: g.scopeText.split('\n').filter((l) => l.trim()), accounts: g.accounts }),
      namePrefix: repoTokenPrefix(claims.repository),
      endDate: utcDayOf(dateOf(clock), policy.lifetimeDays),
      clientCertificate: policy.clientCertificate,
      host: config.digicertHost,
    };
    const audited = wouldRefuse.get(req);
    audit({ event: 'check', outcome: 'allowed', policy: policy.name, claims: decidingClaims(claims), wouldMint: would, ...(audited ? { mode: 'audit', wouldRefuse: audited } : {}) });
    return [200, { allowed: true, policy: policy.name, wouldMint: would }];
  }

  async function revoke(req: IncomingMessage): Promise<[number, unknown]> {
    const claims = await authenticate(req);
    const body = await readJson(req);
    const leases = body.leases;
    if (!Array.isArray(leases) || leases.length === 0 || leases.length > MAX_LEASES || !leases.every((l): l is string => typeof l === 'string' && LEASE.test(l))) {
      throw new HttpRefusal(400, 'invalid_request', `leases must list 1 to ${MAX_LEASES} lease ids this job was given`);
    }
    // Every lease must be this job's (notOwner); otherwise nothing is revoked. A lease this repository never opened is
    // not acted on, then or later in this request: its key is this repository's, so no other repository can open it.
    for (const lease of leases) {
      const owner = await ledger.leaseOwner(leaseKey(claims, lease));
      const differ = owner ? notOwner(owner, claims) : [];
      if (differ.length) {
        throw new HttpRefusal(403, 'lease_mismatch', `lease ${lease} was not made for this job: the token's ${differ.join(', ')} differ from the lease's (a job revokes only what was minted for itself)`, { lease, claims: decidingClaims(claims) });
      }
    }
    const results: RevokeOutcome[] = [];
    const unknown: string[] = [];
    for (const lease of leases) {
      const key = leaseKey(claims, lease);
      await inflight.get(key);
      // A mint of this lease on another replica: wait until it settles there.
      await settledElsewhere(ledger, key, clock, config.timeoutSeconds * 1000);
      // Re-checked after every await, on the rows themselves (each carries its lease's owner).
      const owner = await ledger.leaseOwner(key);
      if (!owner || notOwner(owner, claims).length) {
        unknown.push(lease);
        continue;
      }
      const rows = (await ledger.openOfLease(key)).filter((r) => notOwner(r, claims).length === 0);
      results.push(...counted(await revokeRows(credentialDeps, rows, 'job'), 'job'));
    }
    audit({ event: 'revoke', claims: decidingClaims(claims), leases, revoked: results.map(describeRevoked), ...(unknown.length ? { unknownLeases: unknown } : {}) });
    return [200, { revoked: results.map(describeRevoked), unknownLeases: unknown }];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    try {
      const op = await operational(route, { ledger, jwks, metrics, draining: () => draining });
      if (op) {
        res.writeHead(op.status, { 'content-type': op.contentType, 'cache-control': 'no-store', ...op.headers }).end(op.body);
        return;
      }
      if (draining && (route === 'POST /v1/credentials' || route === 'POST /v1/check')) {
        throw new HttpRefusal(503, 'stopping', 'this broker is stopping; send the request again (another replica takes it)', {}, { 'retry-after': '1' });
      }
      let answer: [number, unknown];
      if (route === 'POST /v1/credentials') answer = await mint(req);
      else if (route === 'POST /v1/revoke') answer = await revoke(req);
      else if (route === 'POST /v1/check') answer = await check(req);
      else throw new HttpRefusal(404, 'not_found', `no such endpoint: ${route.slice(0, 80)}`);
      res.writeHead(answer[0], { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer[1]));
    } catch (err) {
      // The ledger out of reach: nothing is minted without its row first (fail closed); the job may try again.
      const r =
        err instanceof HttpRefusal
          ? err
          : err instanceof PaceRefusal
            ? new HttpRefusal(503, 'digicert_busy', err.message, {}, { 'retry-after': String(err.retryAfterSeconds) })
            : err instanceof LedgerUnavailable
            ? new HttpRefusal(503, 'ledger_unavailable', 'the broker cannot reach its ledger; nothing was minted; try again shortly', {}, { 'retry-after': '2' })
            : new HttpRefusal(500, 'internal', 'the broker failed; see its log');
      metrics.refusals.inc({ code: r.code });
      if (!(err instanceof HttpRefusal)) deps.log(`${route}: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err), config.secrets)}`);
      if (r.status !== 404 && r.audited) {
        try {
          audit({ event: 'refused', route, status: r.status, code: r.code, reason: r.message, ...r.extra });
        } catch (auditErr) {
          deps.log(`${route}: the audit log could not be written: ${auditErr instanceof Error ? auditErr.message : String(auditErr)}`);
        }
      }
      if (!res.headersSent) res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(JSON.stringify({ error: { code: r.code, message: r.message, ...r.shown } }));
    }
  }

  const sweepOnce = async (): Promise<RevokeOutcome[]> => {
    // Replicas on one ledger: one sweeps at a time (broker/replica.ts says the bounds).
    if (!(await presence.mySweep())) {
      metrics.sweeps.inc({ result: 'not-my-turn' });
      return [];
    }
    metrics.sweeps.inc({ result: 'swept' });
    const now = clock.now();
    await ledger.prune(Math.floor(now / 1000), config.clockSkewSeconds);
    // Each row by its policy's maxAgeMinutes; a row of a policy no longer in the file by the config's maxAgeMinutes.
    const maxAgeOf = (name: string): number => {
      const p = config.policies.find((x) => x.name === name);
      return p ? p.maxAgeMinutes * 60_000 : config.maxAgeMs;
    };
    const today = utcDayOf(new Date(now));
    const youngest = Math.min(config.maxAgeMs, ...config.policies.map((p) => p.maxAgeMinutes * 60_000));
    const due = (await ledger.due(now, today, youngest)).filter((r) => r.endDate < today || r.createdAt <= now - maxAgeOf(r.policy));
    // A dead replica's creates in flight, once their own deadline has passed: no job got them.
    const orphans = await ledger.orphans(now, now - config.timeoutSeconds * 1000);
    due.push(...orphans.filter((o) => !due.some((d) => d.seq === o.seq)));
    if (due.length === 0) return [];
    const results = counted(await revokeRows(credentialDeps, due, 'sweeper'), 'sweeper');
    audit({ event: 'sweep', revoked: results.map(describeRevoked) });
    return results;
  };
  let sweeping: Promise<RevokeOutcome[]> | undefined;
  // One sweep at a time: a slow DigiCert ONE must not stack them up. (Cleared in a later tick, after the assignment.)
  const sweep = (): Promise<RevokeOutcome[]> => (sweeping ??= sweepOnce().finally(() => (sweeping = undefined)));

  // TLS 1.3 only: every suite has forward secrecy (no static-RSA key exchange), and every current client has it.
  const server: Server = createServer(
    { cert: config.tls.certPem, key: config.tls.keyPem, minVersion: 'TLSv1.3', requestTimeout: config.http.requestTimeoutMs, headersTimeout: config.http.headersTimeoutMs },
    (req, res) => {
      const p: Promise<void> = handle(req, res).finally(() => active.delete(p));
      active.add(p);
    },
  );
  server.maxConnections = config.http.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const initialSweep = sweep().catch((err: unknown) => {
    deps.log(`start-up sweep failed: ${redact(err instanceof Error ? err.message : String(err), config.secrets)}`);
    return [];
  });
  const timer = config.sweepIntervalMs > 0 ? setInterval(() => void sweep().catch((err: unknown) => deps.log(`sweep failed: ${redact(String(err), config.secrets)}`)), config.sweepIntervalMs) : undefined;

  return {
    url: `https://localhost:${port}`,
    port,
    ledger,
    jwks,
    replica: presence.id,
    initialSweep,
    sweep,
    reload() {
      try {
        const policies = loadPolicies(config.policyFile);
        const certPem = readFileSync(config.tls.certFile, 'utf8');
        const keyPem = readFileSync(config.tls.keyFile, 'utf8');
        // Throws on a certificate and key that do not parse or do not pair: the running context stays.
        server.setSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.3' });
        config.policies = policies;
        config.tls = { ...config.tls, certPem, keyPem };
        audit({ event: 'reload', outcome: 'applied', policies: policies.map((p) => p.name) });
        return { ok: true, policies: policies.length };
      } catch (err) {
        const why = redact(err instanceof Error ? err.message : String(err), config.secrets);
        deps.log(`reload refused, still serving the previous policy and TLS files: ${why}`);
        try {
          audit({ event: 'reload', outcome: 'refused', why });
        } catch {
          // the log line above says it
        }
        return { ok: false, why };
      }
    },
    async close() {
      // Stop taking mints, let those under way finish (bounded by their own deadline), then stop.
      draining = true;
      clearInterval(timer);
      // New connections are still taken meanwhile, and answered 503 with Retry-After (a load balancer may still send some).
      const deadline = new Promise((resolve) => setTimeout(resolve, config.timeoutSeconds * 1000).unref());
      await Promise.race([Promise.all([...active]), deadline]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 200).unref())]);
      server.closeAllConnections();
      await closed;
      await sweeping?.catch(() => undefined);
      await presence.stop();
      await jwksHttp.close();
      await ledger.close();
    },
  };
}
