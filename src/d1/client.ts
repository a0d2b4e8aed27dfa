/**
 * The DigiCert ONE client: one method per call the action makes, with retries inside the step's time budget and
 * errors that say what to do. What is sent and how answers are read is in wire.ts: this file never reads a
 * field of an answer itself, and every server text it repeats is scrubbed of secrets and made safe to print.
 */
import type { HttpClient, HttpMethod, HttpResponse } from '../platform/http.js';
import { NetworkError } from '../platform/http.js';
import {
  PATHS,
  createClientCertBody,
  createServiceUserBody,
  createTokenBody,
  enableClientCertBody,
  parseAccount,
  parseCreatedClientCert,
  parseCreatedServiceUser,
  parseCreatedToken,
  CREATED_TOKEN_FIELDS,
  CREATED_USER_FIELDS,
  parseKeypair,
  parseList,
  parseRetryAfter,
  parseRole,
  parseServerError,
  parseServiceUserItem,
  parseTokenItem,
  parseUser,
  type Account,
  type Code,
  type Created,
  type Id,
  type Keypair,
  type KeypairAlias,
  type Listed,
  type Name,
  type NewServiceUser,
  type Role,
  type User,
  type UtcDay,
} from './wire.js';
import { logSafe } from '../platform/text-safety.js';
import type { Clock } from '../platform/clock.js';
import { RETRYABLE_STATUS, backoffMs, classifyNetworkCode, retryAfterWaitMs, statusMaybeCommitted } from './retry.js';
import { redact } from '../platform/text-safety.js';
import { answerShape, describeShape, fieldList, type AnswerShape } from './answer-fields.js';
import type { TraceEvent } from './trace.js';

export { PATHS, parseServerError };
export type { Account, Id, Keypair, KeypairAlias, Listed, Name, Role, User, UtcDay };

/** Kinds of failure the entry points treat differently (message text is for people). */
export type FailureKind = 'auth' | 'forbidden' | 'not-found' | 'invalid' | 'duplicate' | 'rate-limited' | 'unavailable' | 'server' | 'network' | 'protocol';

export class D1Error extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status?: number,
    /** The request may have been carried out although no success answer arrived (a create must be checked). */
    readonly maybeCommitted = false,
    /** A create answered 2xx, so it was carried out, but its answer could not be read (id, when it was readable). */
    readonly made?: { id: Id | undefined },
  ) {
    super(message);
    this.name = 'D1Error';
  }
}

/** A new credential whose answer was read whole. */
export interface CreatedCredential {
  id: Id;
  secret: string;
  /**
   * As the server answered it; undefined when the answer has none (or none that parses). The action never puts the
   * end date it asked for in its place: it reports what DigiCert ONE confirmed.
   */
  endDate: UtcDay | undefined;
  /** Likewise its name. */
  name: Name | undefined;
  /** The answer fields that were missing, each as `'field' in the answer to METHOD path`, for the step's warnings. */
  unconfirmed: { field: 'endDate' | 'name'; text: string }[];
}

export interface ClientOptions {
  host: string;
  /** Values to scrub from any server text we repeat. */
  secrets: readonly string[];
  /** Epoch ms, on `clock`, by which every request and retry of this step must be done. */
  deadline: number;
  /** The step's clock: the deadline above was computed from it, and only it is read against the deadline. */
  clock: Clock;
  /** One line per retry, for the job log. */
  log?: (line: string) => void;
  /** How the bootstrap identity authenticates: the hints for 401 and for TLS failures differ. */
  authKind?: 'api-key' | 'client-cert';
  /** Observers (preflight, contract suite): the field NAMES of each answer a method goes on to read, never values. */
  onAnswer?: (endpoint: string, status: number, shape: AnswerShape) => void;
  /** Request tracing (debug log): one event per HTTP attempt. */
  trace?: (t: TraceEvent) => void;
}

type Answer = HttpResponse & { attempts: number; waitedMs: number };

const MAX_NETWORK_ATTEMPTS = 3;

const REGION_HOSTS = 'one.digicert.com, demo.one.digicert.com, one.digicert.co.jp, one.ch.digicert.com, one.nl.digicert.com';

/** The field names of an answer (names only, each checked, capped: see answer-fields.ts), for "fields present: …". */
function presentFields(body: unknown): string {
  const shape = answerShape(body);
  return shape.kind === 'object' ? fieldList(shape) || '(none)' : describeShape(shape);
}

/** `METHOD /path` without the query, for messages (paths hold only ids that passed parseId). */
function endpointOf(method: string, path: string): string {
  return `${method} ${path.split('?')[0]}`;
}

export class D1Client {
  private readonly host: string;
  private readonly secrets: readonly string[];
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly authKind: 'api-key' | 'client-cert';
  private readonly onAnswer: ClientOptions['onAnswer'];
  private readonly trace: ClientOptions['trace'];
  readonly deadline: number;

  constructor(
    private readonly http: HttpClient,
    opts: ClientOptions,
  ) {
    this.host = opts.host;
    this.secrets = opts.secrets;
    this.deadline = opts.deadline;
    this.clock = opts.clock;
    this.log = opts.log ?? (() => undefined);
    this.authKind = opts.authKind ?? 'api-key';
    this.onAnswer = opts.onAnswer;
    this.trace = opts.trace;
  }

  /**
   * One API call with retries inside the deadline. `repeatable` is false for a create: a failure after which the
   * service may have acted is then not repeated here but reported with `maybeCommitted`, for the caller to check.
   */
  private async call(method: HttpMethod, path: string, body: unknown, repeatable: boolean): Promise<Answer> {
    const endpoint = endpointOf(method, path);
    const started = this.clock.now();
    let networkFailures = 0;
    for (let attempt = 1; ; attempt++) {
      const remaining = this.deadline - this.clock.now();
      const spent = (): string => `${attempt} attempt${attempt > 1 ? 's' : ''} in ${((this.clock.now() - started) / 1000).toFixed(1)} s`;
      if (remaining <= 0) throw new D1Error(`${endpoint}: the time budget (timeout-seconds) ran out after ${spent()}.`, 'network', undefined, !repeatable && attempt > 1);
      let wait: number;
      let why: string;
      const sentAt = this.clock.now();
      try {
        const res = await this.http.send(method, path, body, remaining);
        // Observers see names only: the shape is computed here, the body never leaves this module.
        const shape = this.trace || this.onAnswer ? answerShape(res.body) : undefined;
        this.trace?.({ method, path, attempt, durationMs: this.clock.now() - sentAt, status: res.status, shape });
        if (!RETRYABLE_STATUS.has(res.status) || (!repeatable && statusMaybeCommitted(res.status))) {
          this.onAnswer?.(endpoint, res.status, shape!);
          return { ...res, attempts: attempt, waitedMs: this.clock.now() - started };
        }
        const told = parseRetryAfter(res.headers['retry-after'], this.clock.now());
        // Retry-After is the earliest moment; a random spread on top (never past the deadline) keeps a crowd of
        // runners refused together from coming back together (retry.ts).
        const next = told === undefined ? backoffMs(attempt, this.clock.random) : retryAfterWaitMs(told, this.deadline - this.clock.now(), this.clock.random);
        // The header's own text never reaches the log: only what it parsed to.
        why = `answered ${res.status}${told !== undefined ? ` (Retry-After: ${Math.round(told / 1000)} s)` : ''}`;
        if (next === undefined || this.clock.now() + next >= this.deadline) {
          this.onAnswer?.(endpoint, res.status, shape!);
          return { ...res, attempts: attempt, waitedMs: this.clock.now() - started };
        }
        wait = next;
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        this.trace?.({ method, path, attempt, durationMs: this.clock.now() - sentAt, error: err.code });
        const kind = classifyNetworkCode(err.code);
        // A broken connection is retried a few times, not for the whole budget: with mutual TLS a refused
        // certificate looks the same (the server closes the connection), and should fail in seconds.
        if (kind === 'permanent' || (kind === 'maybe-sent' && !repeatable) || ++networkFailures >= MAX_NETWORK_ATTEMPTS || this.deadline - this.clock.now() <= 0) {
          throw this.networkError(endpoint, err, kind === 'maybe-sent' && !repeatable, attempt > 1 ? ` Gave up after ${spent()}.` : '');
        }
        wait = backoffMs(attempt, this.clock.random);
        why = `failed (${err.code})`;
        if (this.clock.now() + wait >= this.deadline) throw this.networkError(endpoint, err, false, ` Gave up after ${spent()} (timeout-seconds).`);
      }
      this.log(`DigiCert ONE ${endpoint} ${why}; attempt ${attempt + 1} in ${(wait / 1000).toFixed(1)} s.`);
      await this.clock.sleep(wait);
    }
  }

  private networkError(endpoint: string, err: NetworkError, maybeCommitted: boolean, tail: string): D1Error {
    const host = this.host;
    const code = err.code;
    let hint: string;
    // With mutual TLS the server judges the client certificate after the handshake (TLS 1.3): a refusal arrives as
    // an alert (ERR_SSL_..._ALERT_...) or a closed connection on the first request.
    if (this.authKind === 'client-cert' && (/ALERT/.test(code) || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')) {
      hint = `${host} refused the client certificate in the TLS handshake (${code}). Check that client-certificate (with client-key) is the certificate/key pair of an active service user, issued on this DigiCert ONE host (demo certificates do not work in production), and that host names the DigiCert ONE host: the action connects to its 'clientauth.' name, which is the one that accepts client certificates.`;
    } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      hint = `could not resolve ${host}. Check the host input (DigiCert ONE hosts: ${REGION_HOSTS}).`;
    } else if (code === 'ECONNREFUSED') {
      hint = `${host} refused the connection. Check the host input and port, and any firewall or proxy (HTTPS_PROXY, NO_PROXY) between the runner and DigiCert ONE.`;
    } else if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') {
      hint = `${host} did not answer in time (${code}). DigiCert ONE may be slow or unreachable from this runner; try again, or check the proxy settings.`;
    } else if (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/.test(code)) {
      hint = `the TLS certificate of ${host} could not be verified (${code}). If a proxy inspects TLS on this runner, give its CA certificate in the tls-ca-certificates input (NODE_EXTRA_CA_CERTS is not used).`;
    } else if (/^Proxy response \(\d+\)/.test(err.message)) {
      const status = /\((\d+)\)/.exec(err.message)?.[1];
      hint = `the proxy (HTTPS_PROXY) refused to open a tunnel to ${host} (proxy answered ${status}). Ask for ${host} to be allowed through the proxy, or list it in NO_PROXY if the runner reaches it directly.`;
    } else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
      hint = `the connection to ${host} was dropped (${code}). Try again; if it persists, check the proxy settings.`;
    } else {
      hint = `request to ${host} failed (${logSafe(code, 64)}): ${logSafe(redact(err.message, this.secrets))}`;
    }
    return new D1Error(`${endpoint}: ${hint}${tail}`, 'network', undefined, maybeCommitted);
  }

  /** `who`: the bootstrap identity (Account Manager), or the job's own two factors (Software Trust). */
  private failure(endpoint: string, res: Answer, subject: string, who: 'bootstrap' | 'job factors' = 'bootstrap'): D1Error {
    const { code, message } = parseServerError(res.body);
    // Scrubbed whole, then made safe and cut: a cut first could leave a secret minus its last characters.
    const said = logSafe(redact([code, message].filter(Boolean).join(': ') || (res.tooLarge ? 'an error body over 1 MiB, not read' : 'no error detail'), this.secrets));
    const tries = res.attempts > 1 ? ` after ${res.attempts} attempts in ${(res.waitedMs / 1000).toFixed(1)} s` : '';
    const head = `${endpoint} returned ${res.status} (${said})${tries}.`;
    const told = parseRetryAfter(res.headers['retry-after'], this.clock.now());
    const retryAfter = told === undefined ? undefined : `${Math.round(told / 1000)} s`;
    switch (true) {
      // The caller there is the job's user (its minted token and client certificate), not the bootstrap.
      case who === 'job factors' && (res.status === 401 || res.status === 403):
        return new D1Error(`${head} Software Trust refused the job's token and client certificate to ${subject}.`, res.status === 401 ? 'auth' : 'forbidden', res.status);
      case res.status === 401 && this.authKind === 'client-cert':
        return new D1Error(
          `${head} DigiCert ONE did not accept the client certificate on ${this.host}: check that it is a current client authentication certificate of a service user made on this host (demo certificates do not work in production), and that the user is active and not past its end date.`,
          'auth',
          401,
        );
      case res.status === 401:
        return new D1Error(
          `${head} DigiCert ONE did not accept the bootstrap credential on ${this.host}: check that api-key holds a current API token made on this host (demo credentials do not work in production, and the reverse), and that its user is active and not past its end date (a token or user stops working at 23:59:59 UTC on its end date).`,
          'auth',
          401,
        );
      case res.status === 403:
        return new D1Error(
          `${head} The bootstrap user is authenticated but may not ${subject}. It needs Account Manager's Manage users permission on the account of that service user: the User Manager role holds it, or a custom role that includes it (the Account Manager and Account Admin roles do not); or use a bootstrap identity that has it. A service user cannot mint for itself: if service-user-id names the bootstrap user, name the service user the job should act as.`,
          'forbidden',
          403,
        );
      case res.status === 404:
        return new D1Error(`${head} Not found on ${this.host}: check that ${subject.replace(/^\w+ /, '')} exists on this host (ids differ between demo and production).`, 'not-found', 404);
      case res.status === 429:
        return new D1Error(`${head} Rate limited by DigiCert ONE${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}: try again later, or spread calls across service users (limits are per API key).`, 'rate-limited', 429);
      case res.status === 503:
        return new D1Error(`${head} DigiCert ONE is unavailable, probably a maintenance window${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}: re-run the job later; escalate to DigiCert support if it lasts more than 10 minutes.`, 'unavailable', 503);
      case res.status >= 500:
        return new D1Error(`${head} DigiCert ONE failed on its side: re-run the job; if it persists, check DigiCert's status page and contact support.`, 'server', res.status, statusMaybeCommitted(res.status));
      case code === 'duplicate_error':
        return new D1Error(
          `${head} DigiCert ONE refused the request to ${subject}: names must be unique. Leave token-name-prefix empty for a generated name (it ends in a random part), or choose another.`,
          'duplicate',
          res.status,
        );
      default:
        return new D1Error(`${head} DigiCert ONE refused the request to ${subject}.`, 'invalid', res.status);
    }
  }

  private missing(endpoint: string, res: Answer, wanted: string, made?: { id: Id | undefined }): D1Error {
    return new D1Error(
      `${endpoint} returned ${res.status} without ${wanted}; fields present: ${res.tooLarge ? '(a body over 1 MiB, not read)' : presentFields(res.body)}. Please report this with the action's version: this tenant's API answers differently from the documented one.`,
      'protocol',
      res.status,
      made !== undefined,
      made,
    );
  }

  async getUser(id: Id | 'me'): Promise<User> {
    const path = PATHS.user(id);
    const res = await this.call('GET', path, undefined, true);
    if (res.status !== 200) throw this.failure(endpointOf('GET', path), res, `read user ${id}`);
    const user = parseUser(res.body);
    if (!user) throw this.missing(endpointOf('GET', path), res, 'the user id (id)');
    return user;
  }

  private async list<T>(path: string, subject: string, parse: (x: Record<string, unknown>) => T | undefined, who?: 'job factors'): Promise<T[]> {
    const res = await this.call('GET', path, undefined, true);
    if (res.status !== 200) throw this.failure(endpointOf('GET', path), res, subject, who);
    const items = parseList(res.body);
    if (!items) throw this.missing(endpointOf('GET', path), res, 'a JSON array');
    // An entry without a valid id cannot be acted on, and so is not passed on.
    return items.map(parse).filter((x): x is T => x !== undefined);
  }

  /** Server text the action may print (display names), scrubbed whole before any caller can shorten it. */
  private scrubbed<T extends { name: string }>(x: T): T {
    return { ...x, name: redact(x.name, this.secrets) };
  }

  async listRoles(applicationCode: Code): Promise<Role[]> {
    return (await this.list(PATHS.roles(applicationCode), `list the roles of ${applicationCode}`, parseRole)).map((r) => this.scrubbed(r));
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.list(PATHS.accounts, 'list its accounts', parseAccount)).map((a) => this.scrubbed(a));
  }

  listServiceUsers(): Promise<Listed[]> {
    return this.list(PATHS.serviceUsers, 'list service users', parseServiceUserItem);
  }

  /** Software Trust: the keypairs with this alias that the caller may see (called with the job's two factors). */
  listKeypairs(alias: KeypairAlias): Promise<Keypair[]> {
    return this.list(PATHS.keypairsByAlias(alias), `list keypair '${alias}'`, parseKeypair, 'job factors');
  }

  listTokens(userId: Id): Promise<Listed[]> {
    return this.list(PATHS.tokensOf(userId), `list the API tokens of user ${userId}`, parseTokenItem);
  }

  /** Reads a create's answer; a 2xx that cannot be read was carried out all the same, and says so (`made`). */
  private created(endpoint: string, res: Answer, parsed: Created, fields: { endDate: string; name: string }, what: string): CreatedCredential {
    if (!parsed.id || !parsed.secret) {
      const wanted = [!parsed.id && `the ${what} id (id)`, !parsed.secret && `its API token (${['token', 'api_token', 'api_key', 'key'].join(' / ')})`].filter(Boolean).join(' and ');
      throw this.missing(endpoint, res, wanted, { id: parsed.id });
    }
    const unconfirmed = (['endDate', 'name'] as const).filter((f) => parsed[f] === undefined).map((field) => ({ field, text: `'${fields[field]}' in the answer to ${endpoint}` }));
    return { id: parsed.id, secret: parsed.secret, endDate: parsed.endDate, name: parsed.name, unconfirmed };
  }

  async createServiceUser(u: NewServiceUser): Promise<CreatedCredential> {
    const endpoint = endpointOf('POST', PATHS.users);
    const res = await this.call('POST', PATHS.users, createServiceUserBody(u), false);
    if (res.status !== 200 && res.status !== 201) throw this.failure(endpoint, res, `create service user '${u.name}'`);
    return this.created(endpoint, res, parseCreatedServiceUser(res.body), CREATED_USER_FIELDS, 'user');
  }

  async createToken(t: { userId: Id; name: Name; endDate: UtcDay }): Promise<CreatedCredential> {
    const endpoint = endpointOf('POST', PATHS.tokens);
    const res = await this.call('POST', PATHS.tokens, createTokenBody(t), false);
    if (res.status !== 200 && res.status !== 201) throw this.failure(endpoint, res, `create an API token for user ${t.userId}`);
    return this.created(endpoint, res, parseCreatedToken(res.body), CREATED_TOKEN_FIELDS, 'token');
  }

  /** 'deleted', or 'gone' when the server no longer knows it (404): both mean it no longer works. */
  private async remove(path: string, subject: string): Promise<'deleted' | 'gone'> {
    const res = await this.call('DELETE', path, undefined, true);
    if (res.status === 200 || res.status === 204) return 'deleted';
    if (res.status === 404) return 'gone';
    throw this.failure(endpointOf('DELETE', path), res, subject);
  }

  deleteUser(id: Id): Promise<'deleted' | 'gone'> {
    return this.remove(PATHS.user(id), `delete service user ${id}`);
  }

  deleteToken(id: Id): Promise<'deleted' | 'gone'> {
    return this.remove(PATHS.token(id), `delete API token ${id}`);
  }

  /** A client authentication certificate for the caller (called with the job's own token). */
  async createClientCert(c: { csrPem: string; name: Name; endDate: UtcDay }): Promise<{ id: Id; certificatePem: string }> {
    const endpoint = endpointOf('POST', PATHS.clientCerts);
    const res = await this.call('POST', PATHS.clientCerts, createClientCertBody(c), false);
    if (res.status !== 200 && res.status !== 201) throw this.failure(endpoint, res, `request a client authentication certificate '${c.name}'`);
    const parsed = parseCreatedClientCert(res.body);
    if (!parsed.id || !parsed.certificatePem) {
      const wanted = [!parsed.id && 'the certificate id (id)', !parsed.certificatePem && 'the PEM certificate (certificate)'].filter(Boolean).join(' and ');
      throw this.missing(endpoint, res, wanted, { id: parsed.id });
    }
    return { id: parsed.id, certificatePem: parsed.certificatePem };
  }

  /** Disables a client authentication certificate ('gone' when the server no longer knows it). */
  async disableClientCert(id: Id): Promise<'deleted' | 'gone'> {
    const path = PATHS.clientCertEnable(id);
    const res = await this.call('PUT', path, enableClientCertBody(false), true);
    if (res.status === 200 || res.status === 204) return 'deleted';
    if (res.status === 404) return 'gone';
    throw this.failure(endpointOf('PUT', path), res, `disable client authentication certificate ${id}`);
  }
}
