/**
 * Main step: bootstrap credential in, one short-lived credential out (masked before anything can print it).
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { bootstrapConnection } from '../job/connect.js';
import { writeNewFile } from '../platform/files.js';
import type { Core } from '../runner/core.js';
import { KINDS, type Made } from '../credentials/index.js';
import { D1Client, D1Error, type CreatedCredential, type Id, type Name, type User } from '../d1/client.js';
import { checkExpiry, daysUntil } from '../credentials/expiry.js';
import { networkEnvironment, proxyPasswords, sayNetworkEnvironment } from '../platform/http.js';
import { InputError, certificateLoader, parseConfig, secretInputValues, usesBroker, type Config } from '../runner/inputs.js';
import { logSafe } from '../platform/text-safety.js';
import { createOnce, type CreateContext } from '../credentials/mint.js';
import type { RunInfo } from '../credentials/naming.js';
import { dateOf } from '../platform/clock.js';
import type { MainDeps } from '../job/deps.js';
import { maskSecret } from '../platform/text-safety.js';
import { STATE, serializeMade } from '../runner/state.js';
import { traceFor } from '../d1/trace.js';
import { writeMintSummary } from '../runner/summary.js';
import { USER_AGENT } from '../platform/version.js';

// Re-exported for existing importers; new code imports step-deps.ts.
export type { MainDeps } from '../job/deps.js';

/** Main's record of what it made, kept in state after every change so a failure at any point leaves it to post. */
class Ledger {
  private readonly made: Made[] = [];
  constructor(private readonly core: Core) {}
  private save(): void {
    this.core.saveState(STATE.credentials, serializeMade(this.made));
  }
  /** Before a create: post can find it by name if the answer is lost. */
  pending(m: Made): void {
    this.made.push(m);
    this.save();
  }
  settle(m: Made, update: Partial<Made> | 'forget'): void {
    const i = this.made.indexOf(m);
    if (i < 0) return;
    if (update === 'forget') this.made.splice(i, 1);
    else Object.assign(m, update);
    this.save();
  }
}

export async function runMain({ core, run, env, createHttp, clock }: MainDeps): Promise<void> {
  if (usesBroker(core.getInput)) return (await import('../job/broker.js')).runBrokerMain({ core, run, env, createHttp, clock });
  // The step's start: today's date and the deadline come from this one reading of the one clock.
  const now = dateOf(clock);
  // Mask the bootstrap secrets (line by line) before parsing, so even a parse error cannot print them.
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);

  const network = networkEnvironment(env);
  sayNetworkEnvironment(network, core);

  const config = parseConfig(core.getInput, env, run, now, await certificateLoader(core.getInput));
  if (!core.getInput('host').trim() && env.DC_BASE) {
    core.info(`DC_BASE is set, but the host comes from the host input only (an earlier step of the job could set DC_BASE): using ${config.host}.`);
  }
  const deadline = now.getTime() + config.step.timeoutSeconds * 1000;
  if (config.auth.kind === 'client-cert') {
    const cert = config.auth.certificate;
    const left = daysUntil(cert.notAfter, now);
    if (left < config.certificateExpiryWarningDays) {
      core.warning(
        `The client certificate in client-certificate (${logSafe(cert.subject, 200)}) expires on ${cert.notAfter.toISOString()}, in ${left} day${left === 1 ? '' : 's'}. Request a new client authentication certificate for the service user in Account Manager and update the secret before then.`,
      );
    }
  }
  const conn = bootstrapConnection(config.host, config.auth);
  const http = createHttp({ ...conn.http, env, ca: config.trust });
  try {
    const client = new D1Client(http, {
      host: conn.requestHost,
      secrets,
      deadline,
      clock,
      log: (line) => core.info(line),
      authKind: config.auth.kind,
      trace: traceFor((line) => core.debug(line), env),
    });

    // The caller's own record: needed for `me` and `scope`, and for the end-date warning; read alongside the rest.
    const needMe = config.serviceUserId === 'me' || config.scoped !== undefined || (config.expiryCheckAlways && config.expiryWarningDays > 0);
    const mePromise: Promise<User> | undefined = needMe ? client.getUser('me') : undefined;
    mePromise?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile

    core.saveState(STATE.host, config.host);
    core.saveState(STATE.network, network.digest);
    const ledger = new Ledger(core);
    const minted = config.scoped
      ? await mintScoped(core, client, ledger, config, run, env, now, mePromise!)
      : await mintForUser(core, client, ledger, config, run, now, mePromise);
    const { made, secret } = minted;
    const kind = KINDS[made.kind];

    // The new secret is masked before any other line is written (it was saved to state, without the secret, already).
    maskSecret(secret, core.setSecret);
    const jobCert = config.clientCertificateForJob ? await makeJobCertificate({ core, env, createHttp, clock, deadline }, ledger, config, minted, secrets) : undefined;
    // Both factors exist and are in the ledger: prove they can sign with the keypair before the build spends time.
    const keypairId =
      config.keypairAlias && jobCert
        ? await (await import('../job/keypair-check.js')).checkKeypair(
            { core, env, createHttp, clock, deadline },
            { host: config.host, alias: config.keypairAlias, userId: made.userId, token: secret, certificateFile: jobCert.file, certificatePassword: jobCert.password, secrets, trust: config.trust },
          )
        : undefined;

    core.setOutput('token', secret);
    core.setOutput('token-id', made.kind === 'api-token' ? made.id : '');
    core.setOutput('token-name', made.name);
    core.setOutput('user-id', made.userId);
    core.setOutput('ephemeral-user-id', made.kind === 'service-user' ? made.id : '');
    core.setOutput('expires-at', `${made.endDate}T23:59:59Z`);
    core.setOutput('base-url', config.baseUrl);
    core.setOutput('job-certificate-file', jobCert?.file ?? '');
    core.setOutput('job-certificate-password', jobCert?.password ?? '');
    core.setOutput('keypair-id', keypairId ?? '');

    if (config.exportEnv) {
      // Names DigiCert's own tools read; the minted token only, never the bootstrap secret.
      core.exportVariable('DC_API_KEY', secret);
      core.exportVariable('DC_BASE', config.baseUrl);
      core.exportVariable('SM_API_KEY', secret);
      core.exportVariable('SM_HOST', `https://clientauth.${config.host}`);
      if (jobCert) {
        core.exportVariable('SM_CLIENT_CERT_FILE', jobCert.file);
        core.exportVariable('SM_CLIENT_CERT_PASSWORD', jobCert.password);
      }
    }

    const what =
      made.kind === 'api-token'
        ? `DigiCert ONE API token '${made.name}' (id ${made.id}) for user ${made.userId}`
        : `ephemeral DigiCert ONE service user '${made.name}' (id ${made.id}) with ${minted.scope.join('; ')} and its API token`;
    const via = config.auth.kind === 'client-cert' ? ` (bootstrap: client certificate via ${conn.requestHost})` : '';
    const cert = jobCert ? `, and a client authentication certificate (id ${jobCert.id}) for it, as a PKCS#12 file in RUNNER_TEMP` : '';
    core.info(
      `Created ${what}${cert} on ${config.host}${via}; ${jobCert ? 'they end' : 'it ends'} ${made.endDate} 23:59:59 UTC` +
        `${config.step.skipRevoke ? ' (skip-revoke is set: the post step leaves it live)' : ` and the post step ${kind.revokes}${jobCert ? ', disables the certificate and removes the file,' : ''} when the job ends`}.`,
    );

    if (mePromise && config.expiryWarningDays > 0) {
      try {
        const me = await mePromise;
        const verdict = checkExpiry(`The bootstrap user ${me.id}`, me.endDate, now, config.expiryWarningDays);
        if (verdict.level !== 'ok') core.warning(verdict.message);
      } catch (err) {
        core.warning(`Could not read the bootstrap user's end date: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    if (config.step.jobSummary) {
      const row = { name: made.name, user: made.userId, host: config.host, endDate: made.endDate };
      // A courtesy: a runner without a job summary (GITHUB_STEP_SUMMARY unset) gets a warning, never a failed step.
      await writeMintSummary(core, [
        { ...row, kind: made.kind === 'api-token' ? 'API token' : 'ephemeral service user', id: made.id, scope: minted.scope.join('; ') || 'the roles of that user' },
        ...(jobCert ? [{ ...row, kind: 'client certificate (PKCS#12 in RUNNER_TEMP)', id: jobCert.id, scope: 'the same user' }] : []),
      ]).catch((err: unknown) => core.warning(`Could not write the job summary (the credentials were made and handed over all the same): ${err instanceof Error ? err.message : String(err)}`));
    }
  } finally {
    await http.close();
  }
}

interface Minted {
  made: Made & { id: Id; userId: Id };
  secret: string;
  scope: string[];
}

async function cleanupStale(core: Core, config: Config, run: RunInfo, now: Date, ctx: CreateContext): Promise<void> {
  if (!config.cleanupStale) return;
  const { kind, client, pending } = ctx;
  if (!kind.list) return;
  const list = kind.list;
  const { sweepStale } = await import('../credentials/sweep.js');
  const deleted = await sweepStale({ list: () => list(client, pending), remove: (id) => kind.revoke({ client, runnerTemp: '' }, id) }, run, { staleAfterMs: config.staleAfterHours * 3_600_000, now });
  const noun = `${kind.noun}(s)`;
  core.info(
    deleted.length
      ? `cleanup-stale: deleted ${deleted.length} ${noun} left by earlier runs: ${deleted.map((t) => `'${t.name}' (id ${t.id})`).join(', ')}.`
      : `cleanup-stale: no ${noun} left by earlier runs.`,
  );
}

/**
 * Sweeps, records the credential as pending, creates it (with recovery), and settles the record:
 * with its id when made, forgotten when it certainly was not, kept for post when that is unknown.
 */
async function make(core: Core, ledger: Ledger, config: Config, run: RunInfo, now: Date, ctx: CreateContext, create: () => Promise<CreatedCredential>): Promise<CreatedCredential> {
  await cleanupStale(core, config, run, now, ctx);
  return recorded(ledger, ctx, create, (c) => ({ id: c.id, endDate: c.endDate, ...(ctx.pending.kind === 'service-user' ? { userId: c.id } : {}) }));
}

/** Records ctx.pending, creates it (with recovery), and settles the record from what the create answered. */
async function recorded<T>(ledger: Ledger, ctx: CreateContext, create: () => Promise<T>, settle: (created: T) => Partial<Made>): Promise<T> {
  ledger.pending(ctx.pending);
  try {
    const created = await createOnce(ctx, create);
    ledger.settle(ctx.pending, settle(created));
    return created;
  } catch (err) {
    // DigiCert ONE refuses an end date past the user's; the input that sets it is lifetime-days.
    if (err instanceof D1Error && err.status === 400 && err.kind === 'invalid' && !err.maybeCommitted) {
      ledger.settle(ctx.pending, 'forget');
      throw new D1Error(`${err.message} If the user ends before ${ctx.pending.endDate} (an end date cannot be later than its user's), lower lifetime-days (0 ends today at 23:59:59 UTC).`, err.kind, err.status);
    }
    if (err instanceof D1Error && err.maybeCommitted) {
      if (err.made?.id) ledger.settle(ctx.pending, { id: err.made.id, ...(ctx.pending.kind === 'service-user' ? { userId: err.made.id } : {}) });
    } else {
      ledger.settle(ctx.pending, 'forget');
    }
    throw err;
  }
}

async function mintForUser(core: Core, client: D1Client, ledger: Ledger, config: Config, run: RunInfo, now: Date, me: Promise<User> | undefined): Promise<Minted> {
  const userId = config.serviceUserId === 'me' ? (await me!).id : (config.serviceUserId as Id);
  const pending: Made = { kind: 'api-token', id: '', name: config.tokenName, userId, endDate: config.endDate };
  const ctx: CreateContext = { client, kind: KINDS['api-token'], pending, log: (l) => core.info(l) };
  const created = await make(core, ledger, config, run, now, ctx, () => client.createToken({ userId, name: config.tokenName, endDate: config.endDate }));
  return { made: { ...pending, id: created.id, userId, endDate: created.endDate }, secret: created.secret, scope: [] };
}

async function mintScoped(core: Core, client: D1Client, ledger: Ledger, config: Config, run: RunInfo, env: NodeJS.ProcessEnv, now: Date, me: Promise<User>): Promise<Minted> {
  const scoped = config.scoped!;
  const { describeRun, resolveScope } = await import('../job/scope.js');
  const resolved = await resolveScope(client, await me, scoped);
  const pending: Made = { kind: 'service-user', id: '', name: config.tokenName, userId: '', endDate: config.endDate };
  const ctx: CreateContext = { client, kind: KINDS['service-user'], pending, log: (l) => core.info(l) };
  const created = await make(core, ledger, config, run, now, ctx, () =>
    client.createServiceUser({
      name: config.tokenName,
      description: describeRun(run, env, now),
      email: scoped.email,
      endDate: config.endDate,
      accounts: resolved.accounts,
      roles: resolved.roleIds,
    }),
  );
  return { made: { ...pending, id: created.id, userId: created.id, endDate: created.endDate }, secret: created.secret, scope: resolved.labels };
}

interface JobCertificate {
  id: Id;
  /** Absolute path of the PKCS#12 file under RUNNER_TEMP. */
  file: string;
  password: string;
}

/**
 * The second factor for the job: a key pair made here, in memory; a CSR sent with the job's own token (the API
 * issues certificates "for the authenticated user"); the certificate and key written once, as a PKCS#12 with a fresh
 * random password, to a new file under RUNNER_TEMP. Each piece is recorded before it exists, so post disables the
 * certificate and removes the file whatever fails after. The code for keys, CSR and PKCS#12 loads only here.
 */
async function makeJobCertificate(
  deps: Pick<MainDeps, 'core' | 'env' | 'createHttp' | 'clock'> & { deadline: number },
  ledger: Ledger,
  config: Config,
  minted: Minted,
  secrets: string[],
): Promise<JobCertificate> {
  const { core, env, createHttp, clock, deadline } = deps;
  const runnerTemp = env.RUNNER_TEMP ?? '';
  if (!isAbsolute(runnerTemp)) {
    throw new InputError('client-certificate-for-job', 'needs RUNNER_TEMP, the folder the runner empties after each job, to hold the PKCS#12 file; it is not set in this step.');
  }
  const { makeJobCertificateRequest, randomPassword, toPkcs12 } = await import('../keys/job-certificate.js');
  const { made, secret } = minted;

  // As the job's own user: its token, on the plain host (the API host where tokens authenticate).
  const http = createHttp({ baseUrl: config.baseUrl, headers: { 'x-api-key': secret, 'user-agent': USER_AGENT }, env, ca: config.trust });
  let certificate: { id: Id; certificatePem: string };
  let request: Awaited<ReturnType<typeof makeJobCertificateRequest>> | undefined;
  try {
    const client = new D1Client(http, {
      host: config.host,
      secrets: [...secrets, secret],
      deadline,
      clock,
      log: (line) => core.info(line),
      trace: traceFor((line) => core.debug(line), env),
    });
    const pending: Made = { kind: 'client-certificate', id: '', name: made.name, userId: made.userId, endDate: made.endDate };
    const ctx: CreateContext = { client, kind: KINDS['client-certificate'], pending, log: (l) => core.info(l) };
    // Its end date is the token's, which is no later than the user's.
    // A nickname per request: one whose answer was lost cannot be found to free its name (no listing is documented).
    const nickname = (): Name => `${made.name.slice(0, 56)}_c${randomBytes(3).toString('hex')}` as Name;
    // A fresh key pair for every request attempt: after a lost answer, the certificate DigiCert ONE may have issued
    // (its id unknown, so it cannot be disabled) certifies a key that is dropped here, never the one handed out.
    certificate = await recorded(
      ledger,
      ctx,
      async () => {
        request = await makeJobCertificateRequest(made.name);
        return client.createClientCert({ csrPem: request.csrPem, name: (pending.name = nickname()), endDate: made.endDate });
      },
      (c) => ({ id: c.id }),
    );
  } finally {
    await http.close();
  }

  const password = randomPassword();
  maskSecret(password, core.setSecret);
  // The key of the request that was answered (the create returned, so `request` is that attempt's).
  const pfx = await toPkcs12(certificate.certificatePem, [], request!.privateKey, password);
  const name = `d1-job-${randomBytes(8).toString('hex')}.p12` as Id;
  const file = join(runnerTemp, name);
  ledger.pending({ kind: 'pkcs12-file', id: name, name: 'job client certificate' as Name, userId: made.userId, endDate: made.endDate });
  await writeNewFile(file, pfx);
  return { id: certificate.id, file, password };
}
