/**
 * Post step: revoke what main minted. Reads only what main saved (plus the bootstrap credential, which is never
 * saved: it is read from the inputs again, which also tells which kind it is). It never fails the job: a
 * revocation it could not do is a warning that says how to finish it.
 */
import { bootstrapConnection, CLIENTAUTH_PREFIX } from './bootstrap.js';
import type { Core } from './core.js';
import { D1Client, PATHS } from './d1-api.js';
import { proxyPasswords, type HttpClient, type HttpOptions } from './http.js';
import { parseAuth, parseStepConfig, secretInputValues, type Auth, type StepConfig } from './inputs.js';
import type { Clock } from './retry.js';
import { maskSecret, redact } from './secrets.js';
import { traceFor } from './trace.js';
import { loadState } from './state.js';
import { writeRevokeSummary } from './summary.js';

export interface PostDeps {
  core: Core;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
  clock?: Clock;
}

export type PostOutcome = 'nothing' | 'skipped' | 'revoked' | 'gone' | 'expired' | 'failed';

function stepConfig(core: Core): StepConfig {
  try {
    return parseStepConfig(core.getInput);
  } catch (err) {
    // Main already refused these inputs; post still revokes, with the defaults.
    core.info(`Post step uses default settings: ${err instanceof Error ? err.message : String(err)}`);
    return { skipRevoke: false, jobSummary: true, timeoutSeconds: 60 };
  }
}

export async function runPost({ core, env, now, createHttp, clock }: PostDeps): Promise<PostOutcome> {
  // The bootstrap secrets are masked again first thing (masks registered in main may not cover a re-run).
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);
  const saved = loadState(core.getState);
  if (!saved) {
    core.info('Nothing to revoke: the main step did not mint a token.');
    return 'nothing';
  }
  const config = stepConfig(core);
  const finish = async (outcome: PostOutcome, line: string): Promise<PostOutcome> => {
    if (config.jobSummary) await writeRevokeSummary(core, line).catch(() => undefined);
    return outcome;
  };
  const isUser = saved.kind === 'service-user';
  const knownId = isUser ? saved.serviceUserId : saved.tokenId;
  const noun = isUser ? 'ephemeral service user' : 'token';
  const what = `${noun} '${saved.tokenName}'${knownId ? ` (id ${knownId})` : ''} on ${saved.host}`;
  const certInput = core.getInput('client-certificate').trim() !== '';
  // The command a person runs with the same kind of credential (placeholders, never the secret itself).
  const credentialArgs = certInput ? `--cert-type P12 --cert cert.p12:"$P12_PASSWORD"` : `-H "x-api-key: $D1_ADMIN_API_KEY"`;
  const base = `https://${certInput ? CLIENTAUTH_PREFIX : ''}${saved.host}`;
  const manual = knownId
    ? `delete it with: curl -X DELETE ${credentialArgs} ${base}${isUser ? PATHS.user(knownId) : PATHS.token(knownId)}`
    : `find it with curl ${credentialArgs} "${base}${isUser ? `${PATHS.users}?user_type=service` : `${PATHS.tokens}?user_id=${saved.userId}`}" and delete it by id`;
  const until = saved.endDate ? ` until ${saved.endDate} 23:59:59 UTC` : ' until its end date';
  const idOrName = knownId ? `delete ${noun} id ${knownId}` : `delete ${noun} '${saved.tokenName}'`;

  if (config.skipRevoke) {
    core.info(`skip-revoke is set: ${what} stays live${until}.`);
    return finish('skipped', `skipped (skip-revoke); live${until}`);
  }
  if (saved.endDate && saved.endDate < now.toISOString().slice(0, 10)) {
    core.info(`${what} is past its end date (${saved.endDate}) and no longer works; nothing to revoke.`);
    return finish('expired', `not needed (past its end date ${saved.endDate})`);
  }

  if (!core.getInput('api-key').trim() && !certInput) {
    core.warning(`Could not revoke ${what}: the api-key and client-certificate inputs are empty in the post step. It stays live${until}; ${manual}`);
    return finish('failed', `FAILED (no bootstrap credential); ${idOrName}`);
  }
  let auth: Auth;
  try {
    auth = parseAuth(core.getInput, now);
  } catch (err) {
    const msg = redact(err instanceof Error ? err.message : String(err), secrets);
    core.warning(`Could not revoke ${what}: ${msg} It stays live${until}; ${manual}`);
    return finish('failed', `FAILED (bootstrap credential unusable); ${idOrName}`);
  }

  const conn = bootstrapConnection(saved.host, auth);
  const http = createHttp({ ...conn.http, env });
  try {
    const client = new D1Client(http, {
      host: conn.requestHost,
      secrets,
      deadline: now.getTime() + config.timeoutSeconds * 1000,
      clock,
      log: (line) => core.info(line),
      authKind: auth.kind,
      trace: traceFor((line) => core.debug(line), env),
    });
    let id = knownId;
    if (!id) {
      // Main never saw the create's answer: the credential may exist all the same.
      const listed = isUser ? await client.listServiceUsers() : await client.listTokens(saved.userId);
      id = listed.find((t) => t.name === saved.tokenName)?.id ?? '';
      if (!id) {
        core.info(`${what} was never created; nothing to revoke.`);
        return finish('nothing', 'not needed (nothing was created)');
      }
      core.info(`Found ${noun} '${saved.tokenName}' (id ${id}) on ${saved.host}: main never saw the answer to its create, but DigiCert ONE made it.`);
    }
    if ((await (isUser ? client.deleteUser(id) : client.deleteToken(id))) === 'gone') {
      core.info(`${what} was already deleted.`);
      return finish('gone', 'yes (it was already deleted)');
    }
    core.info(`${isUser ? 'Deleted' : 'Revoked'} ${what}${knownId ? '' : ` (id ${id})`}.`);
    return finish('revoked', 'yes');
  } catch (err) {
    const msg = redact(err instanceof Error ? err.message : String(err), secrets);
    core.warning(`Could not revoke ${what}: ${msg} It stays live${until}; ${manual}`);
    return finish('failed', `FAILED; ${idOrName}`);
  } finally {
    await http.close();
  }
}
