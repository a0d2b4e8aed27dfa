/**
 * Post step: revoke what main made, newest first, with one loop for every kind of credential. Reads what main saved
 * (checked, as outside input) and the bootstrap credential, which is never saved: it is read from the inputs again.
 * It never fails the job: a revocation it could not do is a warning that says how to finish it.
 *
 * Revocation is never skipped on a guess: when post knows an id it sends the delete, whatever the saved end date
 * says (404 means gone). The end date only explains a failure (a 401 after the credential's end date).
 */
import { KINDS, type Made } from '../credentials/index.js';
import { dateOf } from '../platform/clock.js';
import { networkEnvironment, proxyPasswords, sayNetworkEnvironment } from '../platform/http.js';
import { maskSecret, redact } from '../platform/text-safety.js';
import { certificateLoader, parseAuth, parseTargetHost, parseTrust, secretInputValues, usesBroker, type Auth } from '../runner/inputs.js';
import { loadState } from '../runner/state.js';
import { writeRevokeSummary } from '../runner/summary.js';
import { connect } from '../job/connect.js';
import { stepConfig, type PostDeps, type PostOutcome } from '../job/deps.js';
import { describe, manualCommands, revokeOne, worstOf } from '../job/revoke.js';

// Re-exported for existing importers; new code imports job/deps.ts.
export type { PostDeps, PostOutcome } from '../job/deps.js';

export async function runPost(deps: PostDeps): Promise<PostOutcome> {
  const { core, env, clock } = deps;
  if (usesBroker(core.getInput)) return (await import(/* webpackChunkName: "broker-mode" */ '../job/broker.js')).runBrokerPost(deps);
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
    const worst = worstOf(outcomes.map(([o]) => o));
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

  const d1 = connect(deps, { host, auth, trust, secrets, deadline: now.getTime() + config.timeoutSeconds * 1000 });
  try {
    for (const m of remote) record(m, await revokeOne(core, { client: d1.client, runnerTemp }, m, saved.host, now, manual));
    return finish();
  } finally {
    await d1.close();
  }
}

