/**
 * Main step: bootstrap credential in, one short-lived token out (masked before anything can print it).
 */
import type { Core } from './core.js';
import { D1Client, D1Error, type User } from './d1-api.js';
import { checkExpiry } from './expiry.js';
import type { HttpClient, HttpOptions } from './http.js';
import { parseConfig } from './inputs.js';
import { mintToken } from './mint.js';
import type { RunInfo } from './naming.js';
import type { Clock } from './retry.js';
import { maskSecret } from './secrets.js';
import { STATE } from './state.js';
import { writeMintSummary } from './summary.js';
import { sweepStale } from './sweep.js';
import { USER_AGENT } from './version.js';

export interface MainDeps {
  core: Core;
  run: RunInfo;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
  clock?: Clock;
}

export async function runMain({ core, run, env, now, createHttp, clock }: MainDeps): Promise<void> {
  // Mask the bootstrap secret before parsing, so even a parse error cannot print it.
  const rawKey = core.getInput('api-key');
  if (rawKey) maskSecret(rawKey, core.setSecret);

  const config = parseConfig(core.getInput, env, run, now);
  const apiKey = config.auth.apiKey;
  const http = createHttp({ baseUrl: config.baseUrl, headers: { 'x-api-key': apiKey, 'user-agent': USER_AGENT }, env });
  try {
    const client = new D1Client(http, {
      host: config.host,
      secrets: [apiKey],
      deadline: now.getTime() + config.step.timeoutSeconds * 1000,
      clock,
      log: (line) => core.info(line),
    });

    // The caller's own record: needed for `me`, and for the end-date warning; read alongside the mint.
    const mePromise: Promise<User> | undefined =
      config.serviceUserId === 'me' || config.expiryWarningDays > 0 ? client.getUser('me') : undefined;
    mePromise?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const userId = config.serviceUserId === 'me' ? (await mePromise!).id : config.serviceUserId;

    if (config.cleanupStale) {
      const deleted = await sweepStale(client, userId, run, { staleAfterMs: config.staleAfterHours * 3_600_000, now });
      core.info(
        deleted.length
          ? `cleanup-stale: deleted ${deleted.length} token(s) left by earlier runs: ${deleted.map((t) => `'${t.name}' (id ${t.id})`).join(', ')}.`
          : 'cleanup-stale: no tokens left by earlier runs.',
      );
    }

    // Saved before the create: if its answer is lost for good, post still finds the token by name.
    core.saveState(STATE.host, config.host);
    core.saveState(STATE.userId, userId);
    core.saveState(STATE.pendingName, config.tokenName);
    let minted;
    try {
      minted = await mintToken(client, { userId, name: config.tokenName, endDate: config.endDate }, (line) => core.info(line));
    } catch (err) {
      // Certainly not created: post has nothing to look for.
      if (!(err instanceof D1Error && err.maybeCommitted)) core.saveState(STATE.pendingName, '');
      throw err;
    }

    // The new secret is masked before any other line is written.
    maskSecret(minted.token, core.setSecret);
    // Then saved for post, so a failure below still leaves the token to be revoked.
    core.saveState(STATE.tokenId, minted.id);
    core.saveState(STATE.tokenName, minted.name);
    core.saveState(STATE.endDate, minted.endDate);

    core.setOutput('token', minted.token);
    core.setOutput('token-id', minted.id);
    core.setOutput('token-name', minted.name);
    core.setOutput('user-id', minted.userId);
    core.setOutput('expires-at', `${minted.endDate}T23:59:59Z`);
    core.setOutput('base-url', config.baseUrl);

    if (config.exportEnv) {
      // Names DigiCert's own tools read; the minted token only, never the bootstrap secret.
      core.exportVariable('DC_API_KEY', minted.token);
      core.exportVariable('DC_BASE', config.baseUrl);
      core.exportVariable('SM_API_KEY', minted.token);
      core.exportVariable('SM_HOST', `https://clientauth.${config.host}`);
    }

    core.info(
      `Minted DigiCert ONE API token '${minted.name}' (id ${minted.id}) for user ${minted.userId} on ${config.host}; ` +
        `it ends ${minted.endDate} 23:59:59 UTC${config.step.skipRevoke ? ' (skip-revoke is set: the post step will leave it live)' : ' and the post step revokes it when the job ends'}.`,
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
      await writeMintSummary(core, { name: minted.name, id: minted.id, user: minted.userId, host: config.host, endDate: minted.endDate });
    }
  } finally {
    await http.close();
  }
}
