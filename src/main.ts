/**
 * Main step: bootstrap credential in, one short-lived credential out (masked before anything can print it).
 */
import { bootstrapConnection } from './bootstrap.js';
import type { Core } from './core.js';
import { KINDS, type Made } from './credentials/index.js';
import { D1Client, D1Error, type CreatedCredential, type Id, type User } from './d1-api.js';
import { checkExpiry, daysUntil } from './expiry.js';
import { proxyPasswords, type HttpClient, type HttpOptions } from './http.js';
import { parseConfig, secretInputValues, type Config } from './inputs.js';
import { logSafe } from './log-safe.js';
import { checkNameFree, createOnce, type CreateContext } from './mint.js';
import type { RunInfo } from './naming.js';
import type { Clock } from './retry.js';
import { describeRun, resolveScope } from './scoped.js';
import { maskSecret } from './secrets.js';
import { STATE, serializeMade } from './state.js';
import { traceFor } from './trace.js';
import { writeMintSummary } from './summary.js';
import { sweepStale } from './sweep.js';

export interface MainDeps {
  core: Core;
  run: RunInfo;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
  clock?: Clock;
}

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
    if (update === 'forget') this.made.splice(i, 1);
    else Object.assign(m, update);
    this.save();
  }
}

export async function runMain({ core, run, env, now, createHttp, clock }: MainDeps): Promise<void> {
  // Mask the bootstrap secrets (line by line) before parsing, so even a parse error cannot print them.
  const secrets = [...secretInputValues(core.getInput), ...proxyPasswords(env)];
  for (const value of secrets) maskSecret(value, core.setSecret);

  const config = parseConfig(core.getInput, env, run, now);
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
  const http = createHttp({ ...conn.http, env });
  try {
    const client = new D1Client(http, {
      host: conn.requestHost,
      secrets,
      deadline: now.getTime() + config.step.timeoutSeconds * 1000,
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
    const ledger = new Ledger(core);
    const minted = config.scoped
      ? await mintScoped(core, client, ledger, config, run, env, now, mePromise!)
      : await mintForUser(core, client, ledger, config, run, now, mePromise);
    const { made, secret } = minted;
    const kind = KINDS[made.kind];

    // The new secret is masked before any other line is written (it was saved to state, without the secret, already).
    maskSecret(secret, core.setSecret);

    core.setOutput('token', secret);
    core.setOutput('token-id', made.kind === 'api-token' ? made.id : '');
    core.setOutput('token-name', made.name);
    core.setOutput('user-id', made.userId);
    core.setOutput('service-user-id', made.kind === 'service-user' ? made.id : '');
    core.setOutput('expires-at', `${made.endDate}T23:59:59Z`);
    core.setOutput('base-url', config.baseUrl);

    if (config.exportEnv) {
      // Names DigiCert's own tools read; the minted token only, never the bootstrap secret.
      core.exportVariable('DC_API_KEY', secret);
      core.exportVariable('DC_BASE', config.baseUrl);
      core.exportVariable('SM_API_KEY', secret);
      core.exportVariable('SM_HOST', `https://clientauth.${config.host}`);
    }

    const what =
      made.kind === 'api-token'
        ? `DigiCert ONE API token '${made.name}' (id ${made.id}) for user ${made.userId}`
        : `ephemeral DigiCert ONE service user '${made.name}' (id ${made.id}) with ${minted.scope.join('; ')} and its API token`;
    const via = config.auth.kind === 'client-cert' ? ` (bootstrap: client certificate via ${conn.requestHost})` : '';
    core.info(
      `Created ${what} on ${config.host}${via}; it ends ${made.endDate} 23:59:59 UTC` +
        `${config.step.skipRevoke ? ' (skip-revoke is set: the post step leaves it live)' : ` and the post step ${kind.revokes} when the job ends`}.`,
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
      await writeMintSummary(core, {
        kind: made.kind === 'api-token' ? 'API token' : 'ephemeral service user',
        name: made.name,
        id: made.id,
        user: made.userId,
        scope: minted.scope.join('; ') || 'the roles of that user',
        host: config.host,
        endDate: made.endDate,
      });
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
  const deleted = await sweepStale({ list: () => kind.list(client, pending), remove: (id) => kind.revoke(client, id) }, run, { staleAfterMs: config.staleAfterHours * 3_600_000, now });
  const noun = `${kind.noun}(s)`;
  core.info(
    deleted.length
      ? `cleanup-stale: deleted ${deleted.length} ${noun} left by earlier runs: ${deleted.map((t) => `'${t.name}' (id ${t.id})`).join(', ')}.`
      : `cleanup-stale: no ${noun} left by earlier runs.`,
  );
}

/**
 * Checks the name, sweeps, records the credential as pending, creates it (with recovery), and settles the record:
 * with its id when made, forgotten when it certainly was not, kept for post when that is unknown.
 */
async function make(core: Core, ledger: Ledger, config: Config, run: RunInfo, now: Date, ctx: CreateContext, create: () => Promise<CreatedCredential>): Promise<CreatedCredential> {
  if (config.tokenNameGiven) await checkNameFree(ctx, 'token-name');
  await cleanupStale(core, config, run, now, ctx);
  ledger.pending(ctx.pending);
  try {
    const created = await createOnce(ctx, create);
    ledger.settle(ctx.pending, { id: created.id, endDate: created.endDate, ...(ctx.pending.kind === 'service-user' ? { userId: created.id } : {}) });
    return created;
  } catch (err) {
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
