/**
 * The broker's HTTPS API. Every request carries the job's GitHub OIDC token as a bearer; nothing is decided before
 * it verifies (id-token.ts) and its jti is recorded once (a replay is refused).
 *
 * POST /v1/credentials {policy, lease, job?, csr?} → the policy's grant, minted (201), or why not (403 naming the
 *   claims that did not match). `lease` is the job's own random request id, recorded before anything is created, so
 *   the job's post step can name what to revoke even when this answer never reached it.
 * POST /v1/revoke {leases: [...]} → revokes what was minted for those leases, when the token's repository (by id), run
 *   and attempt are the lease's; nothing else.
 * POST /v1/check {policy, csr?: true} → the decision and what would be minted; mints nothing.
 * GET /healthz → 200 when the ledger answers.
 *
 * One audit line (JSON) per decision: the claims that decided, the policy, what was minted or revoked; never a secret.
 */
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
import type { BrokerConfig } from './config.js';
import { mintFor, revokeRows, type CredentialDeps, type Minted, type RevokeOutcome } from './credentials.js';
import { Jwks, TokenRefused, verifyIdToken, type JobClaims } from './id-token.js';
import { LedgerUnavailable, type Ledger } from './ledger.js';
import { operational } from './health.js';
import { BrokerMetrics } from './metrics.js';
import { openLedger } from './open-ledger.js';
import { decide, type Policy } from './policy.js';
import { DigicertPace, PaceRefusal } from './pace.js';
import { RateLimiter } from './rate-limit.js';
import { ReplicaPresence, settledElsewhere } from './replica.js';

export interface AuditEntry {
  event: 'mint' | 'check' | 'revoke' | 'sweep' | 'refused';
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
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const LEASE = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_LEASES = 8;

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The claims that decide, as the audit log keeps them (GitHub's claims are not secret; the token itself is). */
const DECIDING = ['repository', 'repository_id', 'repository_owner_id', 'run_id', 'run_attempt', 'ref', 'environment', 'event_name', 'job_workflow_ref', 'sub', 'jti'] as const;
function decidingClaims(c: JobClaims): Record<string, unknown> {
  return Object.fromEntries(DECIDING.filter((k) => c.all[k] !== undefined).map((k) => [k, c.all[k]]));
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpRefusal(413, 'invalid_request', `the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
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

const describeRevoked = (r: RevokeOutcome) => ({ kind: r.row.kind, id: r.row.id, name: r.row.name, lease: r.row.lease, outcome: r.outcome, ...(r.outcome === 'failed' ? { why: r.why } : {}) });

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

  function policyFor(body: Record<string, unknown>, claims: JobClaims, wantsCertificate: boolean): Policy {
    if (typeof body.policy !== 'string' || !body.policy) throw new HttpRefusal(400, 'invalid_request', 'policy (the name of a policy of this broker) is required');
    const d = decide(config.policies, body.policy, claims.all);
    if (d.ok === false && d.code === 'unknown_policy') throw new HttpRefusal(403, 'unknown_policy', `this broker has no policy named '${body.policy.slice(0, 64)}'`, { policy: d.policy, claims: decidingClaims(claims) });
    if (d.ok === false && d.code === 'policy_refused') {
      const list = d.mismatches.map((m) => `${m.claim} (expected ${m.expected.join(' or ')}${m.actual !== undefined ? `, token has ${m.actual}` : ', token has none'})`).join('; ');
      throw new HttpRefusal(403, 'policy_refused', `policy '${d.policy}' does not match this job: ${list}`, { policy: d.policy, mismatches: d.mismatches, claims: decidingClaims(claims) });
    }
    const policy = (d as { policy: Policy }).policy;
    if (wantsCertificate && !policy.clientCertificate) {
      throw new HttpRefusal(403, 'policy_refused', `policy '${policy.name}' does not grant a client certificate (clientCertificate is not true)`, { policy: policy.name, claims: decidingClaims(claims) });
    }
    return policy;
  }

  /** Mints under way, by lease: a revoke for one waits for it (a job whose answer was lost may revoke before it ends). */
  const inflight = new Map<string, Promise<unknown>>();

  async function mint(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJson(req);
    const claims = await authenticate(req);
    await limit(claims);
    const csr = body.csr;
    if (csr !== undefined && (typeof csr !== 'string' || csr.length > 16_384 || !/^-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(csr.trim()))) {
      throw new HttpRefusal(400, 'invalid_request', 'csr must be one PEM CERTIFICATE REQUEST');
    }
    const policy = policyFor(body, claims, csr !== undefined);
    const lease = body.lease;
    if (typeof lease !== 'string' || !LEASE.test(lease)) throw new HttpRefusal(400, 'invalid_request', 'lease must be the job\'s random request id (16-64 letters, digits, - or _)');
    // The job's own label (GITHUB_JOB; the token has no job claim): it goes into a name and a description, so only plain characters.
    const job = typeof body.job === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(body.job) ? body.job : 'job';
    const owner = { repository: claims.repository, repositoryId: claims.repository_id, runId: claims.run_id, runAttempt: claims.run_attempt, policy: policy.name };
    if (!(await ledger.openLease(lease, owner, clock.now()))) throw new HttpRefusal(409, 'lease_taken', 'this lease id was used before; send a new random one');
    let minted: Minted;
    const making = mintFor(credentialDeps, { lease, policy, claims, job, csrPem: csr as string | undefined });
    inflight.set(lease, making.catch(() => undefined));
    try {
      minted = await making;
    } catch (err) {
      // Whatever was made for this lease before the failure is revoked now, not left to the job or the sweeper.
      metrics.mints.inc({ outcome: 'failed' });
      const undone = counted(await revokeRows(credentialDeps, await ledger.openOfLease(lease), 'job').catch(() => []), 'job');
      const why = err instanceof Error ? err.message : String(err);
      audit({ event: 'mint', outcome: 'failed', policy: policy.name, lease, claims: decidingClaims(claims), why, undone: undone.map(describeRevoked) });
      if (err instanceof InputError) throw new HttpRefusal(500, 'policy_unusable', `policy '${policy.name}' cannot be granted: ${why}`);
      if (err instanceof D1Error) throw new HttpRefusal(502, 'digicert_failed', `DigiCert ONE did not mint: ${why}`);
      throw err;
    } finally {
      inflight.delete(lease);
    }
    metrics.mints.inc({ outcome: 'granted' });
    audit({ event: 'mint', outcome: 'granted', policy: policy.name, lease, claims: decidingClaims(claims), minted: describeMinted(minted) }, [minted.secret]);
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
    const body = await readJson(req);
    const claims = await authenticate(req);
    await limit(claims);
    let policy: Policy;
    try {
      policy = policyFor(body, claims, body.csr === true);
    } catch (err) {
      if (!(err instanceof HttpRefusal) || err.status !== 403) throw err;
      audit({ event: 'check', outcome: 'refused', code: err.code, reason: err.message, ...err.extra });
      return [200, { allowed: false, code: err.code, message: err.message, ...(err.extra.mismatches ? { mismatches: err.extra.mismatches } : {}) }];
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
    audit({ event: 'check', outcome: 'allowed', policy: policy.name, claims: decidingClaims(claims), wouldMint: would });
    return [200, { allowed: true, policy: policy.name, wouldMint: would }];
  }

  async function revoke(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJson(req);
    const claims = await authenticate(req);
    const leases = body.leases;
    if (!Array.isArray(leases) || leases.length === 0 || leases.length > MAX_LEASES || !leases.every((l): l is string => typeof l === 'string' && LEASE.test(l))) {
      throw new HttpRefusal(400, 'invalid_request', `leases must list 1 to ${MAX_LEASES} lease ids this job was given`);
    }
    // Every lease must be this run attempt's, of this repository by id; otherwise nothing is revoked.
    for (const lease of leases) {
      const owner = await ledger.leaseOwner(lease);
      if (!owner) continue;
      const differ = [
        owner.repositoryId !== claims.repository_id && 'repository_id',
        owner.runId !== claims.run_id && 'run_id',
        owner.runAttempt !== claims.run_attempt && 'run_attempt',
      ].filter(Boolean);
      if (differ.length) {
        throw new HttpRefusal(403, 'lease_mismatch', `lease ${lease} was not made for this job: the token's ${differ.join(', ')} differ from the lease's (a job revokes only what was minted for its own run attempt)`, { lease, claims: decidingClaims(claims) });
      }
    }
    const results: RevokeOutcome[] = [];
    for (const lease of leases) {
      await inflight.get(lease);
      await settledElsewhere(ledger, lease, clock, config.timeoutSeconds * 1000);
      results.push(...counted(await revokeRows(credentialDeps, await ledger.openOfLease(lease), 'job'), 'job'));
    }
    const unknown: string[] = [];
    for (const l of leases) if (!(await ledger.leaseOwner(l))) unknown.push(l);
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
      if (r.status !== 404) audit({ event: 'refused', route, status: r.status, code: r.code, reason: r.message, ...r.extra });
      const { claims: _claims, ...shown } = r.extra;
      if (!res.headersSent) res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(JSON.stringify({ error: { code: r.code, message: r.message, ...shown } }));
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
    const due = await ledger.due(now, utcDayOf(new Date(now)), config.maxAgeMs);
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

  const server: Server = createServer({ cert: config.tls.certPem, key: config.tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    const p: Promise<void> = handle(req, res).finally(() => active.delete(p));
    active.add(p);
  });
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
