/**
 * Post step: revoke what main made, newest first, with one loop for every kind of credential. Reads what main saved
 * (checked, as outside input) and the bootstrap credential, which is never saved: it is read from the inputs again.
 * It never fails the job: a revocation it could not do is a warning that says how to finish it.
 *
 * Revocation is never skipped on a guess: when post knows an id it sends the delete, whatever the saved end date
 * says (404 means gone). The end date only explains a failure (a 401 after the credential's end date).
 */
import { bootstrapConnection, CLIENTAUTH_PREFIX } from '../job/connect.js';
import type { Core } from '../runner/core.js';
import { KINDS, findByName, type Made, type RevokeContext } from '../credentials/index.js';
import { D1Client, D1Error, type Id } from '../d1/client.js';
import { utcDayOf } from '../d1/wire.js';
import { networkEnvironment, proxyPasswords, sayNetworkEnvironment } from '../platform/http.js';
import { certificateLoader, parseAuth, parseTargetHost, parseTrust, secretInputValues, usesBroker, type Auth } from '../runner/inputs.js';
import { dateOf } from '../platform/clock.js';
import { maskSecret, redact } from '../platform/text-safety.js';
import { loadState } from '../runner/state.js';
import { traceFor } from '../d1/trace.js';
import { writeRevokeSummary } from '../runner/summary.js';
import { stepConfig, type PostDeps, type PostOutcome } from '../job/deps.js';

// Re-exported for existing importers; new code imports step-deps.ts.
export type { PostDeps } from '../job/deps.js';

export type { PostOutcome } from '../job/deps.js';


/** The worst outcome wins the summary line: a failure must not hide behind a success. */
const RANK: PostOutcome[] = ['nothing', 'gone', 'expired', 'revoked', 'skipped', 'failed'];

export async function runPost({ core, env, createHttp, clock }: PostDeps): Promise<PostOutcome> {
  if (usesBroker(core.getInput)) return (await import('../job/broker.js')).runBrokerPost({ core, env, createHttp, clock });
  const now = dateOf(clock);
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
  const outcomes: [PostOutcome, string, string][] = [];
  const finish = (): Promise<PostOutcome> => {
    const worst = outcomes.reduce<PostOutcome>((w, [o]) => (RANK.indexOf(o) > RANK.indexOf(w) ? o : w), 'nothing');
    // One credential: just its outcome; several: each named.
    return summary(worst, outcomes.map(([, line, noun]) => (outcomes.length > 1 && noun ? `${noun}: ${line}` : line)).join('; '));
  };
  const record = (m: Made | undefined, r: [PostOutcome, string]): void => void outcomes.push([...r, m ? KINDS[m.kind].noun : '']);
  // Newest first: what was made last may depend on what was made before it (a certificate on its user).
  const newestFirst = [...saved.made].reverse();

  // Files first, with no credential needed: nothing is left on disk whatever happens to the revocations below.
  const runnerTemp = env.RUNNER_TEMP ?? '';
  for (const m of newestFirst.filter((x) => KINDS[x.kind].local)) record(m, await revokeOne(core, { client: undefined, runnerTemp }, m, saved.host, now, manual));
  const remote = newestFirst.filter((x) => !KINDS[x.kind].local);
  if (remote.length === 0) return finish();

  if (config.skipRevoke) {
    for (const m of remote) core.info(`skip-revoke is set: ${describe(m, saved.host)} stays live until ${m.endDate} 23:59:59 UTC.`);
    record(undefined, ['skipped', `skipped (skip-revoke); live until ${remote[0]!.endDate} 23:59:59 UTC`]);
    return finish();
  }

  const fail = (why: string, line: string): Promise<PostOutcome> => {
    for (const m of remote) core.warning(`Could not revoke ${describe(m, saved.host)}: ${why} It stays live until ${m.endDate} 23:59:59 UTC; ${manual(m)}`);
    record(undefined, ['failed', line]);
    return finish();
  };
  if (!core.getInput('api-key').trim() && !certInput) {
    return fail('the api-key and client-certificate inputs are empty in the post step.', 'FAILED (no bootstrap credential)');
  }
  let auth: Auth;
  let host: string;
  let trust: string[];
  try {
    auth = parseAuth(core.getInput, now, await certificateLoader(core.getInput));
    host = parseTargetHost(core.getInput, auth.kind);
    trust = parseTrust(core.getInput);
  } catch (err) {
    return fail(redact(err instanceof Error ? err.message : String(err), secrets), 'FAILED (bootstrap credential unusable)');
  }
  // The bootstrap credential goes where main sent it, by the same rule; state that names another host is not obeyed.
  if (saved.host !== host) {
    return fail(`the saved host does not match the host main used by the same rule (${host}); nothing was sent.`, 'FAILED (state did not fit; nothing was sent)');
  }

  // Nor along another path: proxy settings that changed since main came from a step in between (GITHUB_ENV).
  const network = networkEnvironment(env);
  sayNetworkEnvironment(network, core);
  if (network.digest !== saved.network) {
    return fail(
      'the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) differ from those the main step used, so a step in between changed them; the bootstrap credential goes only along the path main used, and nothing was sent.',
      'FAILED (proxy settings changed since main; nothing was sent)',
    );
  }

  const conn = bootstrapConnection(host, auth);
  const http = createHttp({ ...conn.http, env, ca: trust });
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
    for (const m of remote) record(m, await revokeOne(core, { client, runnerTemp }, m, saved.host, now, manual));
    return finish();
  } finally {
    await http.close();
  }
}

function describe(m: Made, host: string): string {
  return KINDS[m.kind].local ? `${KINDS[m.kind].noun} ${m.id} in RUNNER_TEMP` : `${KINDS[m.kind].noun} '${m.name}'${m.id ? ` (id ${m.id})` : ''} on ${host}`;
}

const REVOKED: Record<Made['kind'], string> = { 'api-token': 'Revoked', 'service-user': 'Deleted', 'client-certificate': 'Disabled', 'pkcs12-file': 'Removed' };

/** The command a person runs with the same kind of credential (placeholders, never the secret itself). */
function manualCommands(host: string, certInput: boolean): (m: Made) => string {
  const credentialArgs = certInput ? `--cert-type P12 --cert cert.p12:"$P12_PASSWORD"` : `-H "x-api-key: $D1_ADMIN_API_KEY"`;
  const base = `https://${certInput ? CLIENTAUTH_PREFIX : ''}${host}`;
  return (m) => KINDS[m.kind].manual(m, { base, credentialArgs });
}

async function revokeOne(core: Core, ctx: RevokeContext, m: Made, host: string, now: Date, manual: (m: Made) => string): Promise<[PostOutcome, string]> {
  const kind = KINDS[m.kind];
  const what = describe(m, host);
  try {
    let id: Id | '' = m.id;
    if (!id && !kind.list) {
      core.info(`${what}: ${manual(m)}.`);
      return ['nothing', `not needed (${kind.noun}: answer lost, unusable)`];
    }
    if (!id && kind.list && ctx.client) {
      // Main never saw the create's answer: it may exist all the same. Its name is this step's own (see mint.ts).
      id = findByName(await kind.list(ctx.client, m), m.name)?.id ?? '';
      if (!id) {
        core.info(`${what} was never created; nothing to revoke.`);
        return ['nothing', 'not needed (nothing was created)'];
      }
      core.info(`Found ${kind.noun} '${m.name}' (id ${id}) on ${host}: main never saw the answer to its create, but DigiCert ONE made it.`);
    }
    if (!id) return ['nothing', 'not needed (nothing was created)'];
    if ((await kind.revoke(ctx, id)) === 'gone') {
      core.info(`${what} was already deleted.`);
      return ['gone', 'yes (it was already deleted)'];
    }
    core.info(`${REVOKED[m.kind]} ${what}${m.id ? '' : ` (id ${id})`}.`);
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
