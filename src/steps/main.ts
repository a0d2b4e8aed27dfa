/**
 * Main step: bootstrap credential in, short-lived credentials out. It reads as its four parts: parse the inputs,
 * connect with the bootstrap credential, make the list of credentials (each recorded for post before it is
 * created), publish them. The pieces live in src/job/; every secret is masked before anything can print it.
 */
import { checkExpiry, daysUntil } from '../credentials/expiry.js';
import type { User } from '../d1/client.js';
import { dateOf } from '../platform/clock.js';
import { networkEnvironment, proxyPasswords, sayNetworkEnvironment, type NetworkEnvironment } from '../platform/http.js';
import { logSafe, maskSecret } from '../platform/text-safety.js';
import type { Core } from '../runner/core.js';
import { certificateLoader, parseConfig, secretInputValues, usesBroker, type Config } from '../runner/inputs.js';
import { STATE } from '../runner/state.js';
import { connect } from '../job/connect.js';
import type { MainDeps } from '../job/deps.js';
import { Ledger } from '../job/ledger.js';
import { makeCredentials, readMe } from '../job/make.js';
import { publish, summarise } from '../job/publish.js';

// Re-exported for existing importers; new code imports job/deps.ts.
export type { MainDeps } from '../job/deps.js';

export async function runMain(deps: MainDeps): Promise<void> {
  const { core, clock } = deps;
  if (usesBroker(core.getInput)) return (await import(/* webpackChunkName: "broker-mode" */ '../job/broker.js')).runBrokerMain(deps);
  // The step's start: today's date and the deadline come from this one reading of the one clock.
  const now = dateOf(clock);

  const { config, secrets, network } = await parse(deps, now);
  const deadline = now.getTime() + config.step.timeoutSeconds * 1000;

  const d1 = connect(deps, { host: config.host, auth: config.auth, trust: config.trust, secrets, deadline });
  try {
    const me = readMe(d1.client, config);
    core.saveState(STATE.host, config.host);
    core.saveState(STATE.network, network.digest);

    const made = await makeCredentials({ ...deps, now, deadline, secrets }, new Ledger(core), config, d1.client, me);

    publish(core, config, made, d1.requestHost);
    await warnIfBootstrapEnds(core, config, me, now);
    await summarise(core, config, made);
  } finally {
    await d1.close();
  }
}

/** The inputs, parsed once; the bootstrap secrets masked (line by line) first, so even a parse error cannot print them. */
async function parse({ core, env, run }: MainDeps, now: Date): Promise<{ config: Config; secrets: string[]; network: NetworkEnvironment }> {
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);

  const network = networkEnvironment(env);
  sayNetworkEnvironment(network, core);

  const config = parseConfig(core.getInput, env, run, now, await certificateLoader(core.getInput));
  if (!core.getInput('host').trim() && env.DC_BASE) {
    core.info(`DC_BASE is set, but the host comes from the host input only (an earlier step of the job could set DC_BASE): using ${config.host}.`);
  }
  if (config.auth.kind === 'client-cert') {
    const cert = config.auth.certificate;
    const left = daysUntil(cert.notAfter, now);
    if (left < config.certificateExpiryWarningDays) {
      core.warning(
        `The client certificate in client-certificate (${logSafe(cert.subject, 200)}) expires on ${cert.notAfter.toISOString()}, in ${left} day${left === 1 ? '' : 's'}. Request a new client authentication certificate for the service user in Account Manager and update the secret before then.`,
      );
    }
  }
  return { config, secrets, network };
}

async function warnIfBootstrapEnds(core: Core, config: Config, me: Promise<User> | undefined, now: Date): Promise<void> {
  if (!me || config.expiryWarningDays <= 0) return;
  try {
    const user = await me;
    const verdict = checkExpiry(`The bootstrap user ${user.id}`, user.endDate, now, config.expiryWarningDays);
    if (verdict.level !== 'ok') core.warning(verdict.message);
  } catch (err) {
    core.warning(`Could not read the bootstrap user's end date: ${err instanceof Error ? err.message : String(err)}`);
  }
}
