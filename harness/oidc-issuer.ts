/**
 * A stand-in for GitHub's OIDC provider and the runner's ID-token service, written from GitHub's documentation:
 * - docs.github.com "About security hardening with OpenID Connect" (now "OpenID Connect", github/docs
 *   content/actions/concepts/security/openid-connect.md, "Understanding the OIDC token"): the example token, header
 *   `{typ: JWT, alg: RS256, x5t, kid}`, its claim set, and `nbf` = `iat` - 600 s, `exp` = `iat` + 300 s.
 * - docs.github.com "OpenID Connect reference" (content/actions/reference/security/oidc.md): the claims table
 *   (`aud` defaults to the owner's URL, `iss` is https://token.actions.githubusercontent.com or on GHES
 *   https://HOSTNAME/_services/token, keys at <issuer>/.well-known/jwks via its openid-configuration), the `sub`
 *   formats, and "Methods for requesting the OIDC token": `curl -H "Authorization: bearer
 *   $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=..."`.
 * - actions/toolkit packages/core/src/oidc-utils.ts (getIDToken): GET that URL with `&audience=<encoded>`, the
 *   request token as a bearer, and the JWT read from the JSON answer's `value`.
 *
 * Served over HTTPS on 127.0.0.1 (name `localhost`) with a CA made at run time; the issuer URL has GHES's path
 * shape (`https://localhost:<port>/_services/token`), so a verifier must derive the JWKS URL from the issuer.
 * Tests also use it to forge the tokens a verifier must refuse (alg none, HS256 keyed with the public key, a key
 * the JWKS does not hold, claims of their choice).
 * - the immutable subject (docs.github.com OpenID Connect reference, "Immutable subject claims"; the default for
 *   repositories created after 2026-07-15): `repo:<owner>@<owner id>/<repo>@<repo id>:<context>`, with
 *   `{immutableSub: true}`; `check_run_id` (in github.com tokens since 2025-11-13: the job's check run) when the
 *   context gives one.
 * Left out: x5t/x5c (the example shows x5t; a verifier keys on kid), custom sub templates.
 */
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../src/platform/clock.js';
import { makeCert, type KeyPair } from '../emulator/pki.js';

export const ISSUER_PATH = '/_services/token';
/** The runner's GenerateIdTokenUrl has a query string already, which is why getIDToken appends `&audience=`. */
const TOKEN_SERVICE_PATH = '/_apis/distributedtask/hubs/Actions/plans';

export type Claims = Record<string, string | number | string[]>;

/** A CA and a `localhost` server certificate for the stand-ins of the organisation's side (issuer, broker). */
export interface StandInPki {
  ca: KeyPair;
  server: KeyPair;
}

/** Its own CA name: OpenSSL picks an issuer by name, so two test CAs named alike break each other's chains. */
export function makeStandInPki(): StandInPki {
  const ca = makeCert({ commonName: `d1 stand-in CA ${randomBytes(4).toString('hex')}`, isCa: true });
  return { ca, server: makeCert({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], issuer: ca }) };
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function newKey(kid = randomBytes(16).toString('hex')): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export interface ForgeOptions {
  /** Header fields to add or replace (alg, kid, typ). */
  header?: Record<string, unknown>;
  /** 'none' leaves the signature empty; 'HS256-public-key' signs with HMAC keyed by the published public key (PEM). */
  signWith?: 'issuer' | 'unpublished-key' | 'none' | 'HS256-public-key';
}

export interface RecordedTokenRequest {
  audience: string | undefined;
  authorized: boolean;
  status: number;
}

/**
 * The claims GitHub puts in a job's token, from the job's github context (the runner model's): repository and owner
 * by name and id, run id/number/attempt, ref, sha, event, workflows, actor, and the environment when the job has one.
 */
export function jobClaims(g: Record<string, string>, environment?: string, o: { immutableSub?: boolean } = {}): Claims {
  const repo = g.repository ?? 'unknown/unknown';
  const context = environment ? `environment:${environment.replace(/:/g, '%3A')}` : g.event_name === 'pull_request' ? 'pull_request' : `ref:${g.ref ?? ''}`;
  const [owner, name] = repo.split('/') as [string, string];
  const subject = o.immutableSub ? `${owner}@${g.repository_owner_id ?? ''}/${name}@${g.repository_id ?? ''}` : repo;
  return {
    sub: `repo:${subject}:${context}`,
    ...(g.check_run_id ? { check_run_id: g.check_run_id } : {}),
    ...(environment ? { environment } : {}),
    ref: g.ref ?? '',
    ref_type: g.ref_type ?? 'branch',
    sha: g.sha ?? '',
    repository: repo,
    repository_id: g.repository_id ?? '',
    repository_owner: g.repository_owner ?? repo.split('/')[0]!,
    repository_owner_id: g.repository_owner_id ?? '',
    repository_visibility: 'private',
    run_id: g.run_id ?? '',
    run_number: g.run_number ?? '',
    run_attempt: g.run_attempt ?? '1',
    runner_environment: 'github-hosted',
    actor: g.actor ?? '',
    actor_id: g.actor_id ?? '',
    workflow: g.workflow ?? '',
    workflow_ref: g.workflow_ref ?? '',
    workflow_sha: g.workflow_sha ?? '',
    // Not a reusable workflow: the job's workflow is the run's.
    job_workflow_ref: g.workflow_ref ?? '',
    job_workflow_sha: g.workflow_sha ?? '',
    head_ref: '',
    base_ref: '',
    event_name: g.event_name ?? 'push',
  };
}

export class OidcIssuer {
  readonly pki: StandInPki;
  /** The key tokens are signed with; published in the JWKS with any kept earlier keys. */
  private active: SigningKey = newKey();
  private published: SigningKey[] = [];
  /** Signs tokens but is never in the JWKS (for "a key not in the JWKS"). */
  private readonly stranger = newKey('not-in-the-jwks');
  private readonly jobs = new Map<string, Claims>();
  readonly tokenRequests: RecordedTokenRequest[] = [];
  /** How many times the JWKS was fetched (a verifier caches it). */
  jwksFetches = 0;
  private server!: Server;
  port = 0;

  private constructor(
    private readonly clock: Clock,
    pki: StandInPki | undefined,
  ) {
    this.pki = pki ?? makeStandInPki();
    this.published = [this.active];
  }

  static async start(o: { clock: Clock; pki?: StandInPki }): Promise<OidcIssuer> {
    const issuer = new OidcIssuer(o.clock, o.pki);
    issuer.server = createServer({ key: issuer.pki.server.keyPem, cert: issuer.pki.server.certPem }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && url.pathname === `${ISSUER_PATH}/.well-known/openid-configuration`) {
        return json(200, { issuer: issuer.issuer, jwks_uri: issuer.jwksUrl, id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['id_token'], subject_types_supported: ['public', 'pairwise'] });
      }
      if (req.method === 'GET' && url.pathname === `${ISSUER_PATH}/.well-known/jwks`) {
        issuer.jwksFetches++;
        return json(200, issuer.jwks());
      }
      if (req.method === 'GET' && url.pathname.startsWith(`${TOKEN_SERVICE_PATH}/`) && url.pathname.endsWith('/idtoken')) {
        const job = decodeURIComponent(url.pathname.split('/').at(-2) ?? '');
        const claims = issuer.jobs.get(job);
        const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const authorized = claims !== undefined && bearer === claims.__requestToken;
        const audience = url.searchParams.get('audience') ?? undefined;
        if (!authorized) {
          issuer.tokenRequests.push({ audience, authorized, status: 401 });
          return json(401, { message: 'Unauthorized' });
        }
        issuer.tokenRequests.push({ audience, authorized, status: 200 });
        const { __requestToken: _, ...jobClaimsOnly } = claims;
        return json(200, { count: 1, value: issuer.token({ ...jobClaimsOnly, ...(audience ? { aud: audience } : {}) }) });
      }
      json(404, { message: 'Not Found' });
    });
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.port = (issuer.server.address() as AddressInfo).port;
    return issuer;
  }

  /** `iss` of every token (GHES's shape). */
  get issuer(): string {
    return `https://localhost:${this.port}${ISSUER_PATH}`;
  }

  get jwksUrl(): string {
    return `${this.issuer}/.well-known/jwks`;
  }

  get caPem(): string {
    return this.pki.ca.certPem;
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.published.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: 'RS256', use: 'sig' })) };
  }

  /**
   * The runner's side for one job with `id-token: write`: the URL and bearer token it puts in
   * ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN, good for tokens with these claims.
   */
  registerJob(claims: Claims): { url: string; token: string } {
    const job = randomUUID();
    const token = randomBytes(24).toString('base64url');
    this.jobs.set(job, { ...claims, __requestToken: token });
    return { url: `https://localhost:${this.port}${TOKEN_SERVICE_PATH}/${randomUUID()}/jobs/${job}/idtoken?api-version=2.0`, token };
  }

  /** A token as GitHub issues it now (claims override the defaults: aud, iat, exp, nbf, jti, iss …). */
  token(claims: Claims, forge: ForgeOptions = {}): string {
    const iat = Math.floor(this.clock.now() / 1000);
    const owner = String(claims.repository_owner ?? 'octo-org');
    const payload: Claims = { jti: randomUUID(), aud: `https://github.com/${owner}`, iss: this.issuer, nbf: iat - 600, exp: iat + 300, iat, ...claims };
    const key = forge.signWith === 'unpublished-key' ? this.stranger : this.active;
    const header = { typ: 'JWT', alg: 'RS256', kid: key.kid, ...forge.header };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    switch (forge.signWith) {
      case 'none':
        return `${b64url(JSON.stringify({ ...header, alg: 'none' }))}.${b64url(JSON.stringify(payload))}.`;
      case 'HS256-public-key': {
        // The classic confusion: a verifier that takes "the key" from the JWKS and the algorithm from the token.
        const h = `${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${b64url(JSON.stringify(payload))}`;
        const secret = this.active.publicKey.export({ type: 'spki', format: 'pem' });
        return `${h}.${b64url(createHmac('sha256', secret).update(h).digest())}`;
      }
      default:
        return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
    }
  }

  /** Key rotation: a new signing key; the old one stays published unless `dropOld`. */
  rotate(dropOld = false): void {
    this.active = newKey();
    this.published = dropOld ? [this.active] : [this.active, ...this.published];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
