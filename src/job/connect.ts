/**
 * How the bootstrap credential reaches DigiCert ONE: an API token as `x-api-key` on the host, or a client
 * certificate in the TLS handshake on `clientauth.<host>` with no `x-api-key` (DigiCert's mutual-TLS endpoint).
 */
import type { HttpOptions } from '../platform/http.js';
import type { Auth } from '../runner/inputs.js';
import { USER_AGENT } from '../platform/version.js';

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
