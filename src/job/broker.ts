/**
 * Main, post and preflight when the job authenticates through the broker (broker-url). Loaded only in that mode
 * (a dynamic import from main.ts, post.ts and preflight.ts). The job holds no DigiCert ONE secret: it has its OIDC
 * token (asked for per call; the broker refuses a replayed one), and the credential the broker minted, masked first.
 *
 * Main saves the lease (its own random request id) to state BEFORE the exchange, so post can ask the broker to
 * revoke it even when the answer never arrived; a job whose post never runs is revoked by the broker's sweeper.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { callBroker, BrokerError, NOTHING_MADE_503, parseBrokerInputs, parseCredential, type BrokerApiOptions, type BrokerCredential, type BrokerInputs } from './broker-client.js';
import { KINDS, type Made } from '../credentials/index.js';
import type { Id, Name } from '../d1/wire.js';
import { networkEnvironment, proxyPasswords } from '../platform/http.js';
import { maskRequestToken, requestIdToken } from '../runner/id-token-request.js';
import { InputError } from '../runner/inputs.js';
import { logSafe } from '../platform/text-safety.js';
import { writeNewFile } from '../platform/files.js';
import { stepConfig, type MainDeps, type PostDeps, type PostOutcome } from './deps.js';
import { PreflightReport, type CheckResult } from './preflight-checks/report.js';
import { maskSecret } from '../platform/text-safety.js';
import { STATE, loadState, serializeMade } from '../runner/state.js';
import { writeMintSummary, writeRevokeSummary } from '../runner/summary.js';

const LEASE = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_LEASES = 8;

/** The leases main saved; anything else (state can come from the job's environment) is not sent. */
export function parseLeases(raw: string): string[] | undefined {
  if (raw === '') return [];
  try {
    const v = JSON.parse(raw) as { leases?: unknown };
    const list = v?.leases;
    if (Array.isArray(list) && list.length <= MAX_LEASES && list.every((l): l is string => typeof l === 'string' && LEASE.test(l))) return list;
  } catch {
    // not what main writes
  }
  return undefined;
}

function apiOptions(inputs: BrokerInputs, deps: Pick<MainDeps, 'env' | 'createHttp' | 'clock'>, secrets: string[]): BrokerApiOptions {
  const deadline = deps.clock.now() + inputs.step.timeoutSeconds * 1000;
  return { inputs, env: deps.env, createHttp: deps.createHttp, deadline, now: () => deps.clock.now(), secrets: () => secrets };
}

/** A fresh OIDC token for one broker call, masked before it is used; remembered as a secret to scrub. */
async function idTokenFor(api: BrokerApiOptions, mask: (v: string) => void, secrets: string[]): Promise<string> {
  const token = await requestIdToken({ env: api.env, audience: api.inputs.audience, createHttp: api.createHttp, timeoutMs: Math.max(1, api.deadline - api.now()), mask, ca: api.inputs.trust });
  secrets.push(token);
  return token;
}

/**
 * With step debug on, the claims of the job's OIDC token (its payload, never the token): what the broker's policy
 * decides on, ready for `npm run broker -- explain --claims` (docs/broker.md). Claims are not secret.
 */
function debugClaims(core: MainDeps['core'], idToken: string): void {
  try {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const shown = Object.fromEntries(Object.entries(claims).filter(([, v]) => typeof v === 'string' || typeof v === 'number'));
    core.debug(`The OIDC token's claims (for npm run broker -- explain --claims): ${logSafe(JSON.stringify(shown), 4000)}`);
  } catch {
    // Not a JWT the runner's service would issue: the broker says so.
  }
}

function maskFirst(deps: Pick<MainDeps, 'core' | 'env'>): string[] {
  maskRequestToken(deps.env, deps.core.setSecret);
  const secrets = [...proxyPasswords(deps.env)];
  for (const v of secrets) maskSecret(v, deps.core.setSecret);
  return secrets;
}

export async function runBrokerMain(deps: MainDeps): Promise<void> {
  const { core, env, run } = deps;
  const secrets = maskFirst(deps);
  const inputs = parseBrokerInputs(core.getInput);
  const api = apiOptions(inputs, deps, secrets);
  const runnerTemp = env.RUNNER_TEMP ?? '';
  if (inputs.clientCertificateForJob && !isAbsolute(runnerTemp)) {
    throw new InputError('client-certificate-for-job', 'needs RUNNER_TEMP, the folder the runner empties after each job, to hold the PKCS#12 file; it is not set in this step.');
  }
  // The key pair is made here and its private key never leaves this process: only the CSR goes to the broker.
  const jobCert = inputs.clientCertificateForJob ? await import('../keys/job-certificate.js') : undefined;
  const request = jobCert ? await jobCert.makeJobCertificateRequest('d1-token-action job') : undefined;

  let lease = '';
  let res: Awaited<ReturnType<typeof callBroker>> | undefined;
  for (let attempt = 1; !res; attempt++) {
    // A fresh OIDC token and lease for each attempt: a token is used once, and a lease is never reused.
    const idToken = await idTokenFor(api, core.setSecret, secrets);
    if (attempt === 1) debugClaims(core, idToken);
    lease = randomBytes(16).toString('base64url');
    core.saveState(STATE.broker, JSON.stringify({ leases: [lease] }));
    try {
      res = await callBroker(api, '/v1/credentials', idToken, { policy: inputs.policy, lease, job: run.job, ...(request ? { csr: request.csrPem } : {}) });
    } catch (err) {
      // A refusal (4xx) or a broker never reached: nothing was minted, so post must not warn it could not revoke.
      if (err instanceof BrokerError && !err.maybeCommitted) core.saveState(STATE.broker, JSON.stringify({ leases: [] }));
      // A replica stopping for a deploy, its ledger restarting, DigiCert ONE's pace: the broker made nothing and says
      // when to ask again. Within the step's budget (keeping a second for the answer), main asks again, at most 3 times.
      if (!(err instanceof BrokerError) || !NOTHING_MADE_503.has(err.code) || err.retryAfterSeconds === undefined) throw err;
      const wait = err.retryAfterSeconds;
      if (attempt >= 3 || deps.clock.now() + wait * 1000 + 1000 > api.deadline) throw err;
      core.info(`${err.message.replace(/\. Try again in \d+ s\.$/, '')}: asking again in ${wait} s (attempt ${attempt + 1} of 3).`);
      await deps.clock.sleep(wait * 1000);
    }
  }
  // Masked before it is parsed or anything else is written: a malformed answer must not print it either.
  const raw = (res.body as { token?: unknown } | undefined)?.token;
  if (typeof raw === 'string' && raw.length <= 4096) {
    maskSecret(raw, core.setSecret);
    secrets.push(raw);
  }
  const cred = parseCredential(res.body);
  if (!cred || cred.lease !== lease || Boolean(cred.certificate) !== Boolean(request)) {
    throw new BrokerError(`The broker at ${inputs.host} answered ${res.status} without a credential this action can use; the post step asks it to revoke whatever it made for this job.`, 'protocol', res.status, true);
  }

  let file: { path: string; password: string } | undefined;
  if (jobCert && request && cred.certificate) {
    const password = jobCert.randomPassword();
    maskSecret(password, core.setSecret);
    const pfx = await jobCert.toPkcs12(cred.certificate.pem, [], request.privateKey, password);
    const name = `d1-job-${randomBytes(8).toString('hex')}.p12` as Id;
    // Recorded before the file exists: post removes it whatever happens next.
    const made: Made = { kind: 'pkcs12-file', id: name, name: 'job client certificate' as Name, userId: cred.userId, endDate: cred.endDate };
    // The digest goes with any saved credential (state.ts); the broker path itself carries no DigiCert ONE secret.
    core.saveState(STATE.network, networkEnvironment(deps.env).digest);
    core.saveState(STATE.credentials, serializeMade([made]));
    await writeNewFile(join(runnerTemp, name), pfx);
    file = { path: join(runnerTemp, name), password };
  }
  // Both factors are in the job now: the same keypair check as the bootstrap modes, before the build spends time.
  const keypairId =
    inputs.keypairAlias && file
      ? await (await import('./keypair-check.js')).checkKeypair(
          { core, env, createHttp: deps.createHttp, clock: deps.clock, deadline: api.deadline },
          { host: cred.host, alias: inputs.keypairAlias, userId: cred.userId, token: cred.token, certificateFile: file.path, certificatePassword: file.password, secrets, trust: inputs.trust },
        )
      : undefined;
  await publish(deps, inputs, cred, file, keypairId);
}

/** The same outputs, exported variables, log line and summary as a mint with a bootstrap credential. */
async function publish(deps: MainDeps, inputs: BrokerInputs, c: BrokerCredential, file: { path: string; password: string } | undefined, keypairId: Id | undefined): Promise<void> {
  const { core } = deps;
  const baseUrl = `https://${c.host}`;
  const outputs: Record<string, string> = {
    token: c.token,
    'token-id': c.tokenId,
    'token-name': c.tokenName,
    'user-id': c.userId,
    'ephemeral-user-id': c.serviceUserId,
    'expires-at': c.endDate ? `${c.endDate}T23:59:59Z` : '',
    'base-url': baseUrl,
    'job-certificate-file': file?.path ?? '',
    'job-certificate-password': file?.password ?? '',
    // Set once the keypair check passed (keypair-alias); empty otherwise, so every mode sets every output.
    'keypair-id': keypairId ?? '',
  };
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  if (inputs.exportEnv) {
    // Names DigiCert's own tools read, as main exports them.
    const exported: [string, string | undefined][] = [
      ['DC_API_KEY', c.token],
      ['DC_BASE', baseUrl],
      ['SM_API_KEY', c.token],
      ['SM_HOST', `https://clientauth.${c.host}`],
      ['SM_CLIENT_CERT_FILE', file?.path],
      ['SM_CLIENT_CERT_PASSWORD', file?.password],
    ];
    for (const [name, value] of exported) if (value !== undefined) core.exportVariable(name, value);
  }
  const what = c.kind === 'api-token' ? `DigiCert ONE API token '${c.tokenName}' (id ${c.tokenId}) for user ${c.userId}` : `ephemeral DigiCert ONE service user '${c.tokenName}' (id ${c.serviceUserId}) with ${c.scope.join('; ')} and its API token`;
  const cert = c.certificate ? `, and a client authentication certificate (id ${c.certificate.id}) for it, as a PKCS#12 file in RUNNER_TEMP` : '';
  if (!c.endDate) core.warning(`The broker at ${inputs.host} reports that DigiCert ONE confirmed no end date for the credential: only revocation bounds its life now.`);
  core.info(
    `The broker at ${inputs.host} (policy ${inputs.policy}) created ${what}${cert} on ${c.host}; ${c.endDate ? `${c.certificate ? 'they end' : 'it ends'} ${c.endDate} 23:59:59 UTC` : 'DigiCert ONE confirmed no end date'}. ` +
      `${inputs.step.skipRevoke ? 'skip-revoke is set: the post step leaves it to the broker, whose sweeper revokes it once the run is over.' : 'The post step asks the broker to revoke it when the job ends.'}`,
  );
  if (inputs.step.jobSummary) {
    const row = { name: c.tokenName, user: c.userId, host: c.host, endDate: c.endDate };
    await writeMintSummary(core, [
      { ...row, kind: c.kind === 'api-token' ? 'API token (via the broker)' : 'ephemeral service user (via the broker)', id: c.kind === 'api-token' ? c.tokenId : c.serviceUserId, scope: c.scope.join('; ') || 'the roles of that user' },
      ...(c.certificate ? [{ ...row, kind: 'client certificate (PKCS#12 in RUNNER_TEMP)', id: c.certificate.id, scope: 'the same user' }] : []),
    ]);
  }
}

export async function runBrokerPost(deps: PostDeps): Promise<PostOutcome> {
  const { core, env } = deps;
  const secrets = maskFirst(deps);
  const step = stepConfig(core);
  const summary = async (outcome: PostOutcome, line: string): Promise<PostOutcome> => {
    if (step.jobSummary) await writeRevokeSummary(core, line).catch(() => undefined);
    return outcome;
  };
  // The PKCS#12 file first: it needs nothing but RUNNER_TEMP.
  const loaded = loadState(core.getState);
  for (const m of loaded.ok ? loaded.state.made.filter((x) => KINDS[x.kind].local) : []) {
    try {
      const r = await KINDS[m.kind].revoke({ client: undefined, runnerTemp: env.RUNNER_TEMP ?? '' }, m.id as Id);
      core.info(r === 'deleted' ? `Removed ${KINDS[m.kind].noun} ${m.id} from RUNNER_TEMP.` : `${KINDS[m.kind].noun} ${m.id} was already gone.`);
    } catch (err) {
      core.warning(`Could not remove ${KINDS[m.kind].noun} ${m.id}: ${err instanceof Error ? err.message : String(err)} ${KINDS[m.kind].manual(m, { base: '', credentialArgs: '' })}`);
    }
  }
  const leases = parseLeases(core.getState(STATE.broker));
  if (leases === undefined) {
    core.warning('The post step did not ask the broker to revoke anything: the saved lease is not what main writes (an earlier step\'s GITHUB_ENV can set STATE_* variables). The broker\'s sweeper revokes what this run was given once the run is over.');
    return summary('failed', 'FAILED (state did not fit; nothing was sent)');
  }
  if (leases.length === 0) {
    // Main writes an empty list when the broker refused (or was never reached): it minted nothing.
    core.info(core.getState(STATE.broker) ? "Nothing to revoke: the broker refused the main step's request (or was not reached), so it made nothing for this job." : 'Nothing to revoke: the main step did not ask the broker for a credential.');
    return 'nothing';
  }
  let inputs: BrokerInputs;
  try {
    inputs = parseBrokerInputs(core.getInput);
  } catch (err) {
    core.warning(`Could not ask the broker to revoke: ${err instanceof Error ? err.message : String(err)} Its sweeper revokes what this run was given once the run is over.`);
    return summary('failed', 'FAILED (broker inputs unusable)');
  }
  if (step.skipRevoke) {
    core.info("skip-revoke is set: the broker's sweeper revokes this job's credential once the run is over (or it ends on its end date).");
    return summary('skipped', 'skipped (skip-revoke); the broker revokes it after the run');
  }
  const api = apiOptions(inputs, deps, secrets);
  try {
    // A fresh token: the one main used was spent (the broker refuses a replay).
    const idToken = await idTokenFor(api, core.setSecret, secrets);
    const res = await callBroker(api, '/v1/revoke', idToken, { leases });
    const revoked = Array.isArray((res.body as { revoked?: unknown })?.revoked) ? ((res.body as { revoked: Record<string, unknown>[] }).revoked ?? []) : [];
    let failed = 0;
    for (const r of revoked.slice(0, 20)) {
      const what = `${logSafe(String(r.kind ?? 'credential'), 40)} '${logSafe(String(r.name ?? ''), 80)}'${r.id ? ` (id ${logSafe(String(r.id), 80)})` : ''}`;
      if (r.outcome === 'revoked') core.info(`The broker revoked ${what}.`);
      else if (r.outcome === 'gone') core.info(`The broker found ${what} already gone.`);
      else {
        failed++;
        core.warning(`The broker could not revoke ${what}: ${logSafe(String(r.why ?? 'no reason given'), 500)} Its sweeper tries again once the run is over.`);
      }
    }
    if (revoked.length === 0) core.info('The broker had nothing live for this job (already revoked, or never made).');
    return summary(failed ? 'failed' : revoked.length ? 'revoked' : 'gone', failed ? 'FAILED (the broker sweeps it after the run)' : 'yes, through the broker');
  } catch (err) {
    core.warning(`Could not ask the broker to revoke: ${err instanceof Error ? err.message : String(err)} The broker's sweeper revokes it once the run is over.`);
    return summary('failed', 'FAILED (the broker sweeps it after the run)');
  }
}

/** Preflight through the broker: the OIDC token, the broker (TLS), and its policy decision; nothing is minted. */
export async function runBrokerPreflight(deps: MainDeps): Promise<CheckResult[]> {
  const { core } = deps;
  const secrets = maskFirst(deps);
  const report = new PreflightReport(core, secrets);
  core.info('Preflight: asking the broker what it would mint for this job; nothing will be created.');
  let inputs: BrokerInputs | undefined;
  try {
    inputs = parseBrokerInputs(core.getInput);
    report.add('inputs', 'pass', `broker ${inputs.url}, policy ${inputs.policy}, audience ${inputs.audience}.`);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    report.add('inputs', 'fail', err.message);
  }
  if (inputs) {
    const api = apiOptions(inputs, deps, secrets);
    let idToken: string | undefined;
    try {
      idToken = await idTokenFor(api, core.setSecret, secrets);
      report.add('OIDC token', 'pass', `the job has id-token: write; a token for audience ${inputs.audience} was issued.`);
    } catch (err) {
      report.add('OIDC token', 'fail', err instanceof Error ? err.message : String(err));
    }
    if (idToken) {
      try {
        const res = await callBroker(api, '/v1/check', idToken, { policy: inputs.policy, csr: inputs.clientCertificateForJob });
        report.add('broker', 'pass', `reached ${inputs.host} over verified TLS; it accepted this job's OIDC token.`);
        const b = (res.body ?? {}) as { allowed?: unknown; message?: unknown; wouldMint?: Record<string, unknown> };
        if (b.allowed === true) {
          const w = b.wouldMint ?? {};
          const grant = w.serviceUserId ? `an API token for service user ${logSafe(String(w.serviceUserId), 80)}` : `a service user with ${logSafe(JSON.stringify(w.scope ?? []), 200)}`;
          report.add('policy', 'pass', `policy ${inputs.policy} matches this job: it would mint ${grant} on ${logSafe(String(w.host ?? ''), 100)}, ending ${logSafe(String(w.endDate ?? ''), 20)}${w.clientCertificate ? ', with a client certificate if asked' : ''}.`);
        } else {
          report.add('policy', 'fail', logSafe(String(b.message ?? 'refused'), 1000));
        }
      } catch (err) {
        report.add(err instanceof BrokerError && err.status !== undefined ? 'policy' : 'broker', 'fail', err instanceof Error ? err.message : String(err));
      }
    }
  }
  if (!inputs || inputs.step.jobSummary) await report.writeSummary().catch((err: unknown) => core.warning(`Could not write the job summary: ${err instanceof Error ? err.message : String(err)}`));
  const failed = report.failed;
  if (failed.length) core.setFailed(`Preflight: ${failed.length} check(s) failed (${failed.map((c) => c.check).join('; ')}). Fix what the [FAIL] lines say and run it again; nothing was created.`);
  else core.info('Preflight: all checks passed. Remove `preflight: true` to mint.');
  return report.checks;
}
