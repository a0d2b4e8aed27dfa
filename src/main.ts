/**
 * Main step: bootstrap credential in, one short-lived credential out (masked before anything can print it).
 */
import { bootstrapConnection } from './bootstrap.js';
import type { Core } from './core.js';
import { D1Client, D1Error, type User } from './d1-api.js';
import { checkExpiry, daysUntil } from './expiry.js';
import { proxyPasswords, type HttpClient, type HttpOptions } from './http.js';
import { parseConfig, secretInputValues, type Config } from './inputs.js';
import { mintToken } from './mint.js';
import type { RunInfo } from './naming.js';
import type { Clock } from './retry.js';
import { createEphemeralUser, describeRun, resolveScope } from './scoped.js';
import { maskSecret } from './secrets.js';
import { traceFor } from './trace.js';
import { STATE } from './state.js';
import { writeMintSummary } from './summary.js';
import { sweepStale, type SweepTarget } from './sweep.js';

export interface MainDeps {
  core: Core;
  run: RunInfo;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
  clock?: Clock;
}

/** What main hands out: a token of an existing user, or an ephemeral service user (which "is the token"). */
interface Credential {
  kind: 'token' | 'service-user';
  /** The token's id, or the ephemeral user's id. */
  id: string;
  token: string;
  name: string;
  userId: string;
  endDate: string;
  scope: string[];
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
        `The client certificate in client-certificate (${cert.subject}) expires on ${cert.notAfter.toISOString()}, in ${left} day${left === 1 ? '' : 's'}. Request a new client authentication certificate for the service user in Account Manager and update the secret before then.`,
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
    const credential = config.scoped ? await mintScoped(core, client, config, run, env, now, mePromise!) : await mintForUser(core, client, config, run, now, mePromise);

    // The new secret is masked before any other line is written.
    maskSecret(credential.token, core.setSecret);
    // Then saved for post, so a failure below still leaves it to be revoked.
    core.saveState(credential.kind === 'token' ? STATE.tokenId : STATE.serviceUserId, credential.id);
    core.saveState(STATE.tokenName, credential.name);
    core.saveState(STATE.endDate, credential.endDate);

    core.setOutput('token', credential.token);
    core.setOutput('token-id', credential.kind === 'token' ? credential.id : '');
    core.setOutput('token-name', credential.name);
    core.setOutput('user-id', credential.userId);
    core.setOutput('service-user-id', credential.kind === 'service-user' ? credential.id : '');
    core.setOutput('expires-at', `${credential.endDate}T23:59:59Z`);
    core.setOutput('base-url', config.baseUrl);

    if (config.exportEnv) {
      // Names DigiCert's own tools read; the minted token only, never the bootstrap secret.
      core.exportVariable('DC_API_KEY', credential.token);
      core.exportVariable('DC_BASE', config.baseUrl);
      core.exportVariable('SM_API_KEY', credential.token);
      core.exportVariable('SM_HOST', `https://clientauth.${config.host}`);
    }

    const what =
      credential.kind === 'token'
        ? `DigiCert ONE API token '${credential.name}' (id ${credential.id}) for user ${credential.userId}`
        : `ephemeral DigiCert ONE service user '${credential.name}' (id ${credential.id}) with ${credential.scope.join('; ')} and its API token`;
    const revoke = credential.kind === 'token' ? 'revokes it' : 'deletes the user and so its token';
    const via = config.auth.kind === 'client-cert' ? ` (bootstrap: client certificate via ${conn.requestHost})` : '';
    core.info(
      `Created ${what} on ${config.host}${via}; it ends ${credential.endDate} 23:59:59 UTC` +
        `${config.step.skipRevoke ? ' (skip-revoke is set: the post step leaves it live)' : ` and the post step ${revoke} when the job ends`}.`,
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
        kind: credential.kind === 'token' ? 'API token' : 'ephemeral service user',
        name: credential.name,
        id: credential.id,
        user: credential.userId,
        scope: credential.scope.join('; ') || 'the roles of that user',
        host: config.host,
        endDate: credential.endDate,
      });
    }
  } finally {
    await http.close();
  }
}

async function cleanupStale(core: Core, config: Config, run: RunInfo, now: Date, what: string, target: SweepTarget): Promise<void> {
  if (!config.cleanupStale) return;
  const deleted = await sweepStale(target, run, { staleAfterMs: config.staleAfterHours * 3_600_000, now });
  core.info(
    deleted.length
      ? `cleanup-stale: deleted ${deleted.length} ${what} left by earlier runs: ${deleted.map((t) => `'${t.name}' (id ${t.id})`).join(', ')}.`
      : `cleanup-stale: no ${what} left by earlier runs.`,
  );
}

/** Runs a create whose name post can find if its answer is lost; forgets the name when it certainly failed. */
async function pending<T>(core: Core, name: string, create: () => Promise<T>): Promise<T> {
  core.saveState(STATE.pendingName, name);
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof D1Error && err.maybeCommitted)) core.saveState(STATE.pendingName, '');
    throw err;
  }
}

async function mintForUser(core: Core, client: D1Client, config: Config, run: RunInfo, now: Date, me: Promise<User> | undefined): Promise<Credential> {
  const userId = config.serviceUserId === 'me' ? (await me!).id : config.serviceUserId;
  await cleanupStale(core, config, run, now, 'token(s)', { list: () => client.listTokens(userId), remove: (id) => client.deleteToken(id) });
  core.saveState(STATE.userId, userId);
  const minted = await pending(core, config.tokenName, () => mintToken(client, { userId, name: config.tokenName, endDate: config.endDate }, (l) => core.info(l)));
  return { kind: 'token', id: minted.id, token: minted.token, name: minted.name, userId: minted.userId, endDate: minted.endDate, scope: [] };
}

async function mintScoped(core: Core, client: D1Client, config: Config, run: RunInfo, env: NodeJS.ProcessEnv, now: Date, me: Promise<User>): Promise<Credential> {
  const scoped = config.scoped!;
  const resolved = await resolveScope(client, await me, scoped);
  await cleanupStale(core, config, run, now, 'ephemeral service user(s)', { list: () => client.listServiceUsers(), remove: (id) => client.deleteUser(id) });
  core.saveState(STATE.kind, 'service-user');
  const user = await pending(core, config.tokenName, () =>
    createEphemeralUser(
      client,
      { name: config.tokenName, description: describeRun(run, env, now), email: scoped.email, endDate: config.endDate, scope: resolved },
      (l) => core.info(l),
    ),
  );
  return { kind: 'service-user', id: user.id, token: user.token, name: user.name, userId: user.id, endDate: user.endDate, scope: resolved.labels };
}
