/**
 * DigiCert ONE Account Manager API: every path, request field and response field the action uses lives here,
 * so a tenant that answers differently is fixed in one place. Field names marked "unconfirmed" in the README
 * are read from a short list of candidates and, when absent, the error names the fields that were present.
 */
import type { HttpClient, HttpResponse } from './http.js';
import { NetworkError } from './http.js';
import { RETRY_AFTER_JITTER_MS, RETRYABLE_STATUS, backoffMs, classifyNetworkCode, parseRetryAfter, realClock, statusMaybeCommitted, type Clock } from './retry.js';
import { redact } from './secrets.js';
import { answerShape, type AnswerShape } from './answer-fields.js';
import type { TraceEvent } from './trace.js';

export const API_PREFIX = '/account/api/v1';
export const PATHS = {
  users: `${API_PREFIX}/user`,
  user: (id: string) => `${API_PREFIX}/user/${encodeURIComponent(id)}`,
  roles: (applicationCode: string) => `${API_PREFIX}/role?application_code=${encodeURIComponent(applicationCode)}`,
  accounts: `${API_PREFIX}/account`,
  tokens: `${API_PREFIX}/api-access-token`,
  token: (id: string) => `${API_PREFIX}/api-access-token/${encodeURIComponent(id)}`,
};

/** Request body of POST /api-access-token. */
export function createTokenBody(t: { name: string; endDate: string; userId: string }): Record<string, string> {
  return { name: t.name, end_date: t.endDate, user_id: t.userId };
}

/**
 * Request body of POST /user for an ephemeral service user. *Unconfirmed*: the public docs name the console's
 * fields (friendly name, description, email, end date, accounts, roles) but not the JSON keys.
 */
export function createServiceUserBody(u: NewServiceUser): Record<string, unknown> {
  return {
    user_type: 'service',
    friendly_name: u.name,
    description: u.description,
    email: u.email,
    end_date: u.endDate,
    accounts: u.accounts,
    roles: u.roles,
  };
}

const SECRET_FIELDS = ['token', 'api_token', 'api_key', 'key'] as const;

export interface NewServiceUser {
  name: string;
  description: string;
  email: string;
  endDate: string;
  accounts: string[];
  roles: string[];
}

export interface Role {
  id: string;
  name: string;
  permissions: string[];
}

export interface Named {
  id: string;
  name: string;
  endDate: string | undefined;
  createdAt: string | undefined;
}

export interface CreatedServiceUser {
  id: string;
  token: string;
  name: string;
  endDate: string;
}

export interface User {
  id: string;
  userType: string | undefined;
  status: string | undefined;
  endDate: string | undefined;
  primaryAccountId: string | undefined;
  /** Every permission across the user's applications (managers). */
  permissions: string[];
}

export interface MintedToken {
  id: string;
  token: string;
  name: string;
  userId: string;
  endDate: string;
}

/** Kinds of failure the entry points treat differently (message text is for people). */
export type FailureKind = 'auth' | 'forbidden' | 'not-found' | 'invalid' | 'rate-limited' | 'unavailable' | 'server' | 'network' | 'protocol';

export class D1Error extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status?: number,
    /** The request may have been carried out although no success answer arrived (a create must be checked). */
    readonly maybeCommitted = false,
  ) {
    super(message);
    this.name = 'D1Error';
  }
}

export type TokenInfo = Named;

export interface ClientOptions {
  host: string;
  /** Values to scrub from any server text we repeat. */
  secrets: readonly string[];
  /** Epoch ms by which every request and retry of this step must be done. */
  deadline: number;
  clock?: Clock;
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

interface ServerError {
  code: string | undefined;
  message: string | undefined;
}

/** The documentation shows both `{"error": {...}}` and `{"errors": [{...}]}`; read either. */
export function parseServerError(body: unknown): ServerError {
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; errors?: unknown };
    const e = Array.isArray(b.errors) ? b.errors[0] : b.error;
    if (e && typeof e === 'object') {
      const { code, message } = e as { code?: unknown; message?: unknown };
      return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : undefined };
    }
    if (typeof b.error === 'string') return { code: b.error, message: undefined };
  }
  return { code: undefined, message: typeof body === 'string' ? body.slice(0, 200) : undefined };
}

function fieldNames(body: unknown): string {
  if (Array.isArray(body)) return '(a JSON array)';
  if (body && typeof body === 'object') return Object.keys(body).join(', ') || '(none)';
  return `(a ${typeof body} body, not a JSON object)`;
}

function pickString(obj: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = obj[n];
    if (typeof v === 'string' && v) return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function pickArray(body: unknown): unknown[] | undefined {
  if (!body || typeof body !== 'object') return undefined;
  for (const k of ['items', 'data', 'tokens', 'results']) {
    const v = (body as Record<string, unknown>)[k];
    if (Array.isArray(v)) return v;
  }
  return undefined;
}

const REGION_HOSTS = 'one.digicert.com, demo.one.digicert.com, one.digicert.co.jp, one.ch.digicert.com, one.nl.digicert.com';

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
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? (() => undefined);
    this.authKind = opts.authKind ?? 'api-key';
    this.onAnswer = opts.onAnswer;
    this.trace = opts.trace;
  }

  /**
   * One API call with retries inside the deadline. `repeatable` is false for a create: a failure after which the
   * service may have acted is then not repeated here but reported with `maybeCommitted`, for the caller to check.
   */
  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, repeatable: boolean): Promise<Answer> {
    const endpoint = `${method} ${path.split('?')[0]}`;
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
        // Retry-After is the earliest moment; a little jitter on top keeps a crowd of runners from coming back at once.
        wait = told === undefined ? backoffMs(attempt, this.clock.random) : told + Math.round(this.clock.random() * RETRY_AFTER_JITTER_MS);
        why = `answered ${res.status}${res.headers['retry-after'] ? ` (Retry-After: ${res.headers['retry-after']})` : ''}`;
        if (this.clock.now() + wait >= this.deadline) {
          this.onAnswer?.(endpoint, res.status, shape!);
          return { ...res, attempts: attempt, waitedMs: this.clock.now() - started };
        }
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
      hint = `the TLS certificate of ${host} could not be verified (${code}). If a proxy inspects TLS on this runner, give its CA certificate with NODE_EXTRA_CA_CERTS.`;
    } else if (/^Proxy response \(\d+\)/.test(err.message)) {
      const status = /\((\d+)\)/.exec(err.message)?.[1];
      hint = `the proxy (HTTPS_PROXY) refused to open a tunnel to ${host} (proxy answered ${status}). Ask for ${host} to be allowed through the proxy, or list it in NO_PROXY if the runner reaches it directly.`;
    } else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
      hint = `the connection to ${host} was dropped (${code}). Try again; if it persists, check the proxy settings.`;
    } else {
      hint = `request to ${host} failed (${code}): ${redact(err.message, this.secrets)}`;
    }
    return new D1Error(`${endpoint}: ${hint}${tail}`, 'network', undefined, maybeCommitted);
  }

  private failure(endpoint: string, res: Answer, subject: string): D1Error {
    const { code, message } = parseServerError(res.body);
    const said = redact([code, message].filter(Boolean).join(': ') || 'no error detail', this.secrets);
    const tries = res.attempts > 1 ? ` after ${res.attempts} attempts in ${(res.waitedMs / 1000).toFixed(1)} s` : '';
    const head = `${endpoint} returned ${res.status} (${said})${tries}.`;
    const retryAfter = res.headers['retry-after'];
    switch (true) {
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
          `${head} The bootstrap user is authenticated but may not ${subject}. It needs an Account Manager role that can manage users (for example Manager or Account Admin) on the account of that service user; or use a bootstrap identity that has it.`,
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
          `${head} DigiCert ONE refused the request to ${subject}: names must be unique. Leave token-name empty for a generated one (it ends in a random part), or choose another.`,
          'invalid',
          res.status,
        );
      default:
        return new D1Error(`${head} DigiCert ONE refused the request to ${subject}.`, 'invalid', res.status);
    }
  }

  private missing(endpoint: string, res: Answer, wanted: string): D1Error {
    return new D1Error(
      `${endpoint} returned ${res.status} without ${wanted}; fields present: ${fieldNames(res.body)}. Please report this with the action's version: this tenant's API answers differently from the documented one.`,
      'protocol',
      res.status,
    );
  }

  async getUser(id: string): Promise<User> {
    const path = PATHS.user(id);
    const endpoint = `GET ${path}`;
    const res = await this.call('GET', path, undefined, true);
    if (res.status !== 200) throw this.failure(endpoint, res, `read user ${id}`);
    const body = (res.body && typeof res.body === 'object' && !Array.isArray(res.body) ? res.body : {}) as Record<string, unknown>;
    const userId = pickString(body, ['id', 'user_id']);
    if (!userId) throw this.missing(endpoint, res, 'the user id (id)');
    return {
      id: userId,
      userType: pickString(body, ['user_type']),
      status: pickString(body, ['status']),
      endDate: pickString(body, ['end_date', 'expiration_date']),
      primaryAccountId: pickString(body, ['primary_account_id']),
      permissions: Array.isArray(body.applications)
        ? (body.applications as unknown[]).flatMap((a) => (a && typeof a === 'object' && Array.isArray((a as { permissions?: unknown }).permissions) ? ((a as { permissions: unknown[] }).permissions.filter((x) => typeof x === 'string') as string[]) : []))
        : [],
    };
  }

  private async list(path: string, subject: string): Promise<Record<string, unknown>[]> {
    const endpoint = `GET ${path.split('?')[0]}`;
    const res = await this.call('GET', path, undefined, true);
    if (res.status !== 200) throw this.failure(endpoint, res, subject);
    // A bare array as documented for the listings; tolerate a wrapper object too.
    const items = Array.isArray(res.body) ? res.body : pickArray(res.body);
    if (!items) throw this.missing(endpoint, res, 'a JSON array');
    return items.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
  }

  async listRoles(applicationCode: string): Promise<Role[]> {
    const items = await this.list(PATHS.roles(applicationCode), `list the roles of ${applicationCode}`);
    return items.map((x) => ({
      id: pickString(x, ['id', 'code']) ?? '',
      name: pickString(x, ['name']) ?? '',
      permissions: Array.isArray(x.permissions) ? (x.permissions.filter((p) => typeof p === 'string') as string[]) : [],
    }));
  }

  async listAccounts(): Promise<{ id: string; name: string }[]> {
    const items = await this.list(PATHS.accounts, 'list its accounts');
    return items.map((x) => ({ id: pickString(x, ['id']) ?? '', name: pickString(x, ['name']) ?? '' }));
  }

  async listServiceUsers(): Promise<Named[]> {
    const items = await this.list(`${PATHS.users}?user_type=service`, 'list service users');
    return items.map((x) => ({ id: pickString(x, ['id']) ?? '', name: pickString(x, ['friendly_name']) ?? '', endDate: pickString(x, ['end_date']), createdAt: pickString(x, ['created_at']) }));
  }

  async createServiceUser(u: NewServiceUser): Promise<CreatedServiceUser> {
    const endpoint = `POST ${PATHS.users}`;
    const res = await this.call('POST', PATHS.users, createServiceUserBody(u), false);
    if (res.status !== 200 && res.status !== 201) throw this.failure(endpoint, res, `create service user '${u.name}'`);
    const body = (res.body && typeof res.body === 'object' && !Array.isArray(res.body) ? res.body : {}) as Record<string, unknown>;
    const nested = body.api_token && typeof body.api_token === 'object' ? (body.api_token as Record<string, unknown>) : undefined;
    const token = pickString(body, SECRET_FIELDS) ?? (nested ? pickString(nested, SECRET_FIELDS) : undefined);
    const id = pickString(body, ['id', 'user_id']);
    if (!token || !id) {
      throw this.missing(endpoint, res, [!id && 'the user id (id)', !token && `its API token (${SECRET_FIELDS.join(' / ')})`].filter(Boolean).join(' and '));
    }
    return { id, token, name: pickString(body, ['friendly_name']) ?? u.name, endDate: pickString(body, ['end_date']) ?? u.endDate };
  }

  async deleteUser(id: string): Promise<'deleted' | 'gone'> {
    const path = PATHS.user(id);
    const res = await this.call('DELETE', path, undefined, true);
    if (res.status === 200 || res.status === 204) return 'deleted';
    if (res.status === 404) return 'gone';
    throw this.failure(`DELETE ${path}`, res, `delete service user ${id}`);
  }

  async createToken(t: { userId: string; name: string; endDate: string }): Promise<MintedToken> {
    const endpoint = `POST ${PATHS.tokens}`;
    const res = await this.call('POST', PATHS.tokens, createTokenBody(t), false);
    if (res.status !== 200 && res.status !== 201) throw this.failure(endpoint, res, `create an API token for user ${t.userId}`);
    const body = (res.body && typeof res.body === 'object' && !Array.isArray(res.body) ? res.body : {}) as Record<string, unknown>;
    const token = pickString(body, SECRET_FIELDS);
    const id = pickString(body, ['id', 'token_id']);
    if (!token || !id) {
      throw this.missing(endpoint, res, [!id && 'the token id (id)', !token && `the token value (${SECRET_FIELDS.join(' / ')})`].filter(Boolean).join(' and '));
    }
    return {
      id,
      token,
      name: pickString(body, ['name']) ?? t.name,
      userId: pickString(body, ['user_id']) ?? t.userId,
      endDate: pickString(body, ['end_date']) ?? t.endDate,
    };
  }

  async listTokens(userId: string): Promise<TokenInfo[]> {
    const items = await this.list(`${PATHS.tokens}?user_id=${encodeURIComponent(userId)}`, `list the API tokens of user ${userId}`);
    return items
      .map((x) => ({ id: pickString(x, ['id']) ?? '', name: pickString(x, ['name']) ?? '', endDate: pickString(x, ['end_date']), createdAt: pickString(x, ['created_at']) }))
      .filter((x) => x.id);
  }

  /** 'deleted', or 'gone' when the server no longer knows the token (404): both mean it no longer works. */
  async deleteToken(id: string): Promise<'deleted' | 'gone'> {
    const path = PATHS.token(id);
    const endpoint = `DELETE ${path}`;
    const res = await this.call('DELETE', path, undefined, true);
    if (res.status === 200 || res.status === 204) return 'deleted';
    if (res.status === 404) return 'gone';
    throw this.failure(endpoint, res, `delete API token ${id}`);
  }
}
