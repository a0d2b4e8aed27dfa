/**
 * Post step: revoke what main minted. Reads only what main saved (plus the bootstrap secret, which is never
 * saved). It never fails the job: a revocation it could not do is a warning that says how to finish it.
 */
import type { Core } from './core.js';
import { D1Client, PATHS } from './d1-api.js';
import type { HttpClient, HttpOptions } from './http.js';
import { maskSecret, redact } from './secrets.js';
import { loadState } from './state.js';
import { writeRevokeSummary } from './summary.js';
import { REQUEST_TIMEOUT_MS } from './main.js';
import { USER_AGENT } from './version.js';

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
  const manual = `curl -X DELETE -H "x-api-key: $D1_ADMIN_API_KEY" https://${saved.host}${PATHS.token(saved.tokenId)}`;

  if (/^(true|yes|1|on)$/i.test(core.getInput('skip-revoke').trim())) {
    core.info(`skip-revoke is set: ${what} stays live until ${saved.endDate} 23:59:59 UTC.`);
    return finish('skipped', `skipped (skip-revoke); live until ${saved.endDate} 23:59:59 UTC`);
  }
  const today = now.toISOString().slice(0, 10);
  if (saved.endDate < today) {
    core.info(`${what} is past its end date (${saved.endDate}) and no longer works; nothing to revoke.`);
    return finish('expired', `not needed (past its end date ${saved.endDate})`);
  }

  const apiKey = core.getInput('api-key').trim();
  if (!apiKey) {
    core.warning(`Could not revoke ${what}: the api-key input is empty in the post step. It stays live until ${saved.endDate} 23:59:59 UTC; delete it with: ${manual}`);
    return finish('failed', `FAILED (no api-key); delete token id ${saved.tokenId}`);
  }
  maskSecret(apiKey, core.setSecret);

  const http = createHttp({
    baseUrl: `https://${saved.host}`,
    headers: { 'x-api-key': apiKey, 'user-agent': USER_AGENT },
    timeoutMs: REQUEST_TIMEOUT_MS,
    env,
  });
  try {
    const result = await new D1Client(http, saved.host, [apiKey]).deleteToken(saved.tokenId);
    if (result === 'gone') {
      core.info(`${what} was already deleted.`);
      return finish('gone', 'yes (it was already deleted)');
    }
    core.info(`Revoked ${what}.`);
    return finish('revoked', 'yes');
  } catch (err) {
    const msg = redact(err instanceof Error ? err.message : String(err), [apiKey]);
    core.warning(`Could not revoke ${what}: ${msg} It stays live until ${saved.endDate} 23:59:59 UTC; delete it with: ${manual}`);
    return finish('failed', `FAILED; delete token id ${saved.tokenId}`);
  } finally {
    await http.close();
  }
}
