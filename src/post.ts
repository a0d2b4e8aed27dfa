/**
 * Post step: revoke what main made, newest first, with one loop for every kind of credential. Reads what main saved
 * (checked, as outside input) and the bootstrap credential, which is never saved: it is read from the inputs again.
 * It never fails the job: a revocation it could not do is a warning that says how to finish it.
 *
 * Revocation is never skipped on a guess: when post knows an id it sends the delete, whatever the saved end date
 * says (404 means gone). The end date only explains a failure (a 401 after the credential's end date).
 */
import { bootstrapConnection, CLIENTAUTH_PREFIX } from './bootstrap.js';
import type { Core } from './core.js';
import { KINDS, findByName, type Made } from './credentials/index.js';
import { D1Client, D1Error, type Id } from './d1-api.js';
import { utcDayOf } from './d1-wire.js';
import { proxyPasswords, type HttpClient, type HttpOptions } from './http.js';
import { parseAuth, parseStepConfig, parseTargetHost, secretInputValues, type Auth, type StepConfig } from './inputs.js';
import type { Clock } from './retry.js';
import { maskSecret, redact } from './secrets.js';
import { loadState, type SavedState } from './state.js';
import { traceFor } from './trace.js';
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

/** The worst outcome wins the summary line: a failure must not hide behind a success. */
const RANK: PostOutcome[] = ['nothing', 'gone', 'expired', 'revoked', 'skipped', 'failed'];

export async function runPost({ core, env, now, createHttp, clock }: PostDeps): Promise<PostOutcome> {
  // The bootstrap secrets are masked again first thing (masks registered in main may not cover a re-run).
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);
  const config = stepConfig(core);
  const summary = async (outcome: PostOutcome, line: string): Promise<PostOutcome> => {
    if (config.jobSummary) await writeRevokeSummary(core, line).catch(() => undefined);
    return outcome;
  };

  const loaded = loadState(core.getState);
  if (!loaded.ok) {
    core.warning(`The post step did not act: ${loaded.why}. Something other than this action's main step wrote its state (an earlier step's GITHUB_ENV can set STATE_* variables). Check Account Manager for credentials named gha_… of this run.`);
    return summary('failed', 'FAILED (state did not fit; nothing was sent)');
  }
  const saved = loaded.state;
  if (saved.made.length === 0) {
    core.info('Nothing to revoke: the main step did not mint a token.');
    return 'nothing';
  }
  const certInput = core.getInput('client-certificate').trim() !== '';
  const manual = manualCommands(saved.host, certInput);

  if (config.skipRevoke) {
    for (const m of saved.made) core.info(`skip-revoke is set: ${describe(m, saved.host)} stays live until ${m.endDate} 23:59:59 UTC.`);
    return summary('skipped', `skipped (skip-revoke); live until ${saved.made[0]!.endDate} 23:59:59 UTC`);
  }

  const fail = async (why: string, line: string): Promise<PostOutcome> => {
    for (const m of saved.made) core.warning(`Could not revoke ${describe(m, saved.host)}: ${why} It stays live until ${m.endDate} 23:59:59 UTC; ${manual(m)}`);
    return summary('failed', line);
  };
  if (!core.getInput('api-key').trim() && !certInput) {
    return fail('the api-key and client-certificate inputs are empty in the post step.', 'FAILED (no bootstrap credential)');
  }
  let auth: Auth;
  let host: string;
  try {
    auth = parseAuth(core.getInput, now);
    host = parseTargetHost(core.getInput, env, auth.kind);
  } catch (err) {
    return fail(redact(err instanceof Error ? err.message : String(err), secrets), 'FAILED (bootstrap credential unusable)');
  }
  // The bootstrap credential goes where main sent it, by the same rule; state that names another host is not obeyed.
  if (saved.host !== host) {
    return fail(`the saved host does not match the host main used by the same rule (${host}); nothing was sent.`, 'FAILED (state did not fit; nothing was sent)');
  }

  const conn = bootstrapConnection(host, auth);
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
    let worst: PostOutcome = 'nothing';
    const lines: string[] = [];
    // Newest first: what was made last may depend on what was made before it.
    for (const m of [...saved.made].reverse()) {
      const [outcome, line] = await revokeOne(core, client, m, saved, now, manual);
      if (RANK.indexOf(outcome) > RANK.indexOf(worst)) worst = outcome;
      lines.push(line);
    }
    return summary(worst, lines.join('; '));
  } finally {
    await http.close();
  }
}

function describe(m: Made, host: string): string {
  return `${KINDS[m.kind].noun} '${m.name}'${m.id ? ` (id ${m.id})` : ''} on ${host}`;
}

/** The command a person runs with the same kind of credential (placeholders, never the secret itself). */
function manualCommands(host: string, certInput: boolean): (m: Made) => string {
  const credentialArgs = certInput ? `--cert-type P12 --cert cert.p12:"$P12_PASSWORD"` : `-H "x-api-key: $D1_ADMIN_API_KEY"`;
  const base = `https://${certInput ? CLIENTAUTH_PREFIX : ''}${host}`;
  return (m) => {
    const kind = KINDS[m.kind];
    return m.id
      ? `delete it with: curl -X DELETE ${credentialArgs} ${base}${kind.path(m.id)}`
      : `find it with curl ${credentialArgs} "${base}${kind.listPath(m)}" and delete it by id`;
  };
}

async function revokeOne(core: Core, client: D1Client, m: Made, saved: SavedState, now: Date, manual: (m: Made) => string): Promise<[PostOutcome, string]> {
  const kind = KINDS[m.kind];
  const what = describe(m, saved.host);
  try {
    let id: Id | '' = m.id;
    if (!id) {
      // Main never saw the create's answer: it may exist all the same. Its name is this step's own (see mint.ts).
      id = findByName(await kind.list(client, m), m.name)?.id ?? '';
      if (!id) {
        core.info(`${what} was never created; nothing to revoke.`);
        return ['nothing', 'not needed (nothing was created)'];
      }
      core.info(`Found ${kind.noun} '${m.name}' (id ${id}) on ${saved.host}: main never saw the answer to its create, but DigiCert ONE made it.`);
    }
    if ((await kind.revoke(client, id)) === 'gone') {
      core.info(`${what} was already deleted.`);
      return ['gone', 'yes (it was already deleted)'];
    }
    core.info(`${m.kind === 'api-token' ? 'Revoked' : 'Deleted'} ${what}${m.id ? '' : ` (id ${id})`}.`);
    return ['revoked', 'yes'];
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // A 401 after the credential's own end date: the bootstrap may be over too, but so is what it made.
    if (err instanceof D1Error && err.kind === 'auth' && m.endDate < utcDayOf(now)) {
      core.info(`${what} could not be deleted (${msg}), but it passed its end date ${m.endDate} and no longer works.`);
      return ['expired', `not needed (past its end date ${m.endDate})`];
    }
    core.warning(`Could not revoke ${what}: ${msg} It stays live until ${m.endDate} 23:59:59 UTC; ${manual(m)}`);
    return ['failed', `FAILED; delete ${kind.noun} ${m.id ? `id ${m.id}` : `'${m.name}'`}`];
  }
}
