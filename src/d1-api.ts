/**
 * DigiCert ONE Account Manager API: every path, request field and response field the action uses lives here,
 * so a tenant that answers differently is fixed in one place. Field names marked "unconfirmed" in the README
 * are read from a short list of candidates and, when absent, the error names the fields that were present.
 */
import type { HttpClient, HttpResponse } from './http.js';
import { NetworkError } from './http.js';
import { redact } from './secrets.js';

export const API_PREFIX = '/account/api/v1';
export const PATHS = {
  user: (id: string) => `${API_PREFIX}/user/${encodeURIComponent(id)}`,
  tokens: `${API_PREFIX}/api-access-token`,
  token: (id: string) => `${API_PREFIX}/api-access-token/${encodeURIComponent(id)}`,
};

/** Request body of POST /api-access-token. */
export function createTokenBody(t: { name: string; endDate: string; userId: string }): Record<string, string> {
  return { name: t.name, end_date: t.endDate, user_id: t.userId };
}

const SECRET_FIELDS = ['token', 'api_token', 'api_key', 'key'] as const;

export interface User {
  id: string;
  userType: string | undefined;
  status: string | undefined;
  endDate: string | undefined;
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
  ) {
    super(message);
    this.name = 'D1Error';
  }
}

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

const REGION_HOSTS = 'one.digicert.com, demo.one.digicert.com, one.digicert.co.jp, one.ch.digicert.com, one.nl.digicert.com';

export class D1Client {
  constructor(
    private readonly http: HttpClient,
    private readonly host: string,
    /** Values to scrub from any server text we repeat. */
    private readonly secrets: readonly string[],
    /** How the bootstrap identity authenticates: the hints for 401 and for TLS failures differ. */
    private readonly authKind: 'api-key' | 'client-cert' = 'api-key',
  ) {}

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<HttpResponse> {
    const endpoint = `${method} ${path.split('?')[0]}`;
    try {
      return await this.http.send(method, path, body);
    } catch (err) {
      if (err instanceof NetworkError) throw this.networkError(endpoint, err);
      throw err;
    }
  }

  private networkError(endpoint: string, err: NetworkError): D1Error {
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
    } else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
      hint = `the connection to ${host} was dropped (${code}). Try again; if it persists, check the proxy settings.`;
    } else {
      hint = `request to ${host} failed (${code}): ${redact(err.message, this.secrets)}`;
    }
    return new D1Error(`${endpoint}: ${hint}`, 'network');
  }

  private failure(endpoint: string, res: HttpResponse, subject: string): D1Error {
    const { code, message } = parseServerError(res.body);
    const said = redact([code, message].filter(Boolean).join(': ') || 'no error detail', this.secrets);
    const head = `${endpoint} returned ${res.status} (${said}).`;
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
        return new D1Error(`${head} DigiCert ONE failed on its side: re-run the job; if it persists, check DigiCert's status page and contact support.`, 'server', res.status);
      default:
        return new D1Error(`${head} DigiCert ONE refused the request to ${subject}.`, 'invalid', res.status);
    }
  }

  private missing(endpoint: string, res: HttpResponse, wanted: string): D1Error {
    return new D1Error(
      `${endpoint} returned ${res.status} without ${wanted}; fields present: ${fieldNames(res.body)}. Please report this with the action's version: this tenant's API answers differently from the documented one.`,
      'protocol',
      res.status,
    );
  }

  async getUser(id: string): Promise<User> {
    const path = PATHS.user(id);
    const endpoint = `GET ${path}`;
    const res = await this.call('GET', path);
    if (res.status !== 200) throw this.failure(endpoint, res, `read user ${id}`);
    const body = (res.body && typeof res.body === 'object' && !Array.isArray(res.body) ? res.body : {}) as Record<string, unknown>;
    const userId = pickString(body, ['id', 'user_id']);
    if (!userId) throw this.missing(endpoint, res, 'the user id (id)');
    return {
      id: userId,
      userType: pickString(body, ['user_type']),
      status: pickString(body, ['status']),
      endDate: pickString(body, ['end_date', 'expiration_date']),
    };
  }

  async createToken(t: { userId: string; name: string; endDate: string }): Promise<MintedToken> {
    const endpoint = `POST ${PATHS.tokens}`;
    const res = await this.call('POST', PATHS.tokens, createTokenBody(t));
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

  /** 'deleted', or 'gone' when the server no longer knows the token (404): both mean it no longer works. */
  async deleteToken(id: string): Promise<'deleted' | 'gone'> {
    const path = PATHS.token(id);
    const endpoint = `DELETE ${path}`;
    const res = await this.call('DELETE', path);
    if (res.status === 200 || res.status === 204) return 'deleted';
    if (res.status === 404) return 'gone';
    throw this.failure(endpoint, res, `delete API token ${id}`);
  }
}
