/**
 * How the bootstrap credential reaches DigiCert ONE: an API token as `x-api-key` on the host, or a client
 * certificate in the TLS handshake on `clientauth.<host>` with no `x-api-key` (DigiCert's mutual-TLS endpoint).
 */
import { D1Client } from '../d1/client.js';
import { traceFor } from '../d1/trace.js';
import type { HttpOptions } from '../platform/http.js';
import type { Auth } from '../runner/inputs.js';
import { USER_AGENT } from '../platform/version.js';
import type { PostDeps } from './deps.js';

export const CLIENTAUTH_PREFIX = 'clientauth.';

export interface BootstrapConnection {
  /** host[:port] the requests go to (named in error messages). */
  requestHost: string;
  http: Omit<HttpOptions, 'env' | 'ca'>;
}

export function bootstrapConnection(host: string, auth: Auth): BootstrapConnection {
  if (auth.kind === 'api-key') {
    return { requestHost: host, http: { baseUrl: `https://${host}`, headers: { 'x-api-key': auth.apiKey, 'user-agent': USER_AGENT } } };
  }
  const requestHost = `${CLIENTAUTH_PREFIX}${host}`;
  return { requestHost, http: { baseUrl: `https://${requestHost}`, headers: { 'user-agent': USER_AGENT }, tls: auth.tls } };
}

/** What a step needs to open a DigiCert ONE client with the bootstrap credential. */
export interface ConnectOptions {
  host: string;
  auth: Auth;
  /** tls-ca-certificates on top of Node's roots (TLS always verified against these, never the environment's). */
  trust: string[];
  /** Values to scrub from every text the client hands up. */
  secrets: readonly string[];
  /** Epoch ms by which every request and retry of the step is done. */
  deadline: number;
}

export interface Connected {
  client: D1Client;
  /** host[:port] the requests go to: `clientauth.<host>` for a client certificate. */
  requestHost: string;
  close(): Promise<void>;
}

/** The one way a step connects with the bootstrap credential: main and post both come through here. */
export function connect({ core, env, createHttp, clock }: PostDeps, o: ConnectOptions): Connected {
  const conn = bootstrapConnection(o.host, o.auth);
  const http = createHttp({ ...conn.http, env, ca: o.trust });
  const client = new D1Client(http, {
    host: conn.requestHost,
    secrets: o.secrets,
    deadline: o.deadline,
    clock,
    log: (line) => core.info(line),
    authKind: o.auth.kind,
    trace: traceFor((line) => core.debug(line), env),
  });
  return { client, requestHost: conn.requestHost, close: () => http.close() };
}
