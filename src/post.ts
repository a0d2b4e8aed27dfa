/**
 * Post step: revoke what main minted. Reads only what main saved (plus the bootstrap credential, which is never
 * saved: it is read from the inputs again, which also tells which kind it is). It never fails the job: a
 * revocation it could not do is a warning that says how to finish it.
 */
import { bootstrapConnection } from './bootstrap.js';
import type { Core } from './core.js';
import { D1Client, PATHS } from './d1-api.js';
import type { HttpClient, HttpOptions } from './http.js';
import { parseAuth, secretInputValues, type Auth } from './inputs.js';
import { maskSecret, redact } from './secrets.js';
import { loadState } from './state.js';
import { writeRevokeSummary } from './summary.js';
import { REQUEST_TIMEOUT_MS } from './main.js';

export interface PostDeps {
  core: Core;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
}

export type PostOutcome = 'nothing' | 'skipped' | 'revoked' | 'gone' | 'expired' | 'failed';

export async function runPost({ core, env, now, createHttp }: PostDeps): Promise<PostOutcome> {
  const saved = loadState(core.getState);
  if (!saved) {
    core.info('Nothing to revoke: the main step did not mint a token.');
    return 'nothing';
  }
  const summaryOn = !/^(false|no|0|off)$/i.test(core.getInput('job-summary').trim());
  const finish = async (outcome: PostOutcome, line: string): Promise<PostOutcome> => {
    if (summaryOn) await writeRevokeSummary(core, line).catch(() => undefined);
    return outcome;
  };
  const what = `token '${saved.tokenName}' (id ${saved.tokenId}) on ${saved.host}`;
  const secrets = secretInputValues(core.getInput);
  for (const s of secrets) maskSecret(s, core.setSecret);
  const certInput = core.getInput('client-certificate').trim() !== '';
  const manual = certInput
    ? `curl --cert-type P12 --cert cert.p12:"$P12_PASSWORD" -X DELETE https://clientauth.${saved.host}${PATHS.token(saved.tokenId)}`
    : `curl -X DELETE -H "x-api-key: $D1_ADMIN_API_KEY" https://${saved.host}${PATHS.token(saved.tokenId)}`;

  if (/^(true|yes|1|on)$/i.test(core.getInput('skip-revoke').trim())) {
    core.info(`skip-revoke is set: ${what} stays live until ${saved.endDate} 23:59:59 UTC.`);
    return finish('skipped', `skipped (skip-revoke); live until ${saved.endDate} 23:59:59 UTC`);
  }
  const today = now.toISOString().slice(0, 10);
  if (saved.endDate < today) {
    core.info(`${what} is past its end date (${saved.endDate}) and no longer works; nothing to revoke.`);
    return finish('expired', `not needed (past its end date ${saved.endDate})`);
  }

  if (!core.getInput('api-key').trim() && !certInput) {
    core.warning(
      `Could not revoke ${what}: the api-key and client-certificate inputs are empty in the post step. It stays live until ${saved.endDate} 23:59:59 UTC; delete it with: ${manual}`,
    );
    return finish('failed', `FAILED (no bootstrap credential); delete token id ${saved.tokenId}`);
  }
  let auth: Auth;
  try {
    auth = parseAuth(core.getInput, now);
  } catch (err) {
    const msg = redact(err instanceof Error ? err.message : String(err), secrets);
    core.warning(`Could not revoke ${what}: ${msg} It stays live until ${saved.endDate} 23:59:59 UTC; delete it with: ${manual}`);
    return finish('failed', `FAILED (bootstrap credential unusable); delete token id ${saved.tokenId}`);
  }

  const conn = bootstrapConnection(saved.host, auth);
  const http = createHttp({ ...conn.http, timeoutMs: REQUEST_TIMEOUT_MS, env });
  try {
    const result = await new D1Client(http, conn.requestHost, secrets, auth.kind).deleteToken(saved.tokenId);
    if (result === 'gone') {
      core.info(`${what} was already deleted.`);
      return finish('gone', 'yes (it was already deleted)');
    }
    core.info(`Revoked ${what}.`);
    return finish('revoked', 'yes');
  } catch (err) {
    const msg = redact(err instanceof Error ? err.message : String(err), secrets);
    core.warning(`Could not revoke ${what}: ${msg} It stays live until ${saved.endDate} 23:59:59 UTC; delete it with: ${manual}`);
    return finish('failed', `FAILED; delete token id ${saved.tokenId}`);
  } finally {
    await http.close();
  }
}
