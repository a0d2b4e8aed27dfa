/**
 * The job's GitHub OIDC token, asked for as @actions/core's getIDToken asks (actions/toolkit
 * packages/core/src/oidc-utils.ts): GET ACTIONS_ID_TOKEN_REQUEST_URL with `audience` added, the request token
 * ACTIONS_ID_TOKEN_REQUEST_TOKEN as a bearer, the JWT in the JSON answer's `value`. Through src/platform/http.ts (TLS verified,
 * the runner's proxy settings), and masked before anything else is done with it. The runner sets both variables only
 * when the job has `permissions: id-token: write` (actions/runner NodeScriptActionHandler.cs).
 */
import type { HttpClient, HttpOptions } from '../platform/http.js';
import { NetworkError } from '../platform/http.js';
import { logSafe } from '../platform/text-safety.js';
import type { MaskFn } from '../platform/text-safety.js';
import { maskSecret } from '../platform/text-safety.js';
import { USER_AGENT } from '../platform/version.js';

export class IdTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdTokenError';
  }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The request token is a secret of the job (the runner masks it too): masked first, in every step that reads it. */
export function maskRequestToken(env: NodeJS.ProcessEnv, mask: MaskFn): void {
  const t = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (t) maskSecret(t, mask);
}

export async function requestIdToken(
  o: { env: NodeJS.ProcessEnv; audience: string; createHttp: (opts: HttpOptions) => HttpClient; timeoutMs: number; mask: MaskFn; ca: readonly string[] },
): Promise<string> {
  const rawUrl = o.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!rawUrl || !requestToken) {
    throw new IdTokenError(
      'This job cannot get a GitHub OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Give the job `permissions: id-token: write` (at the job or workflow level; listing permissions drops the ones not listed, so add `contents: read` if the job checks out code). A pull_request workflow from a fork gets no OIDC token.',
    );
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new IdTokenError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL; this runner does not serve OIDC tokens as GitHub\'s does.');
  }
  url.searchParams.set('audience', o.audience);
  const http = o.createHttp({ baseUrl: url.origin, headers: { authorization: `Bearer ${requestToken}`, 'user-agent': USER_AGENT }, env: o.env, ca: o.ca });
  try {
    const res = await http.send('GET', url.href, undefined, o.timeoutMs);
    const value = (res.body as { value?: unknown } | undefined)?.value;
    if (res.status !== 200 || typeof value !== 'string' || value.length > 16_384 || !JWT.test(value)) {
      throw new IdTokenError(`The runner's OIDC token service answered ${res.status}${res.status === 200 ? ' without a token in `value`' : ''}; re-run the job (it is GitHub's service, not the broker).`);
    }
    maskSecret(value, o.mask);
    return value;
  } catch (err) {
    if (err instanceof NetworkError) throw new IdTokenError(`The runner's OIDC token service could not be reached (${logSafe(err.code, 60)}); re-run the job.`);
    throw err;
  } finally {
    await http.close();
  }
}
