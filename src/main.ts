/**
 * Main step: bootstrap credential in, one short-lived token out (masked before anything can print it).
 */
import type { Core } from './core.js';
import { D1Client } from './d1-api.js';
import type { HttpClient, HttpOptions } from './http.js';
import { parseConfig } from './inputs.js';
import type { RunInfo } from './naming.js';
import { maskSecret } from './secrets.js';
import { STATE } from './state.js';
import { writeMintSummary } from './summary.js';
import { USER_AGENT } from './version.js';

export interface MainDeps {
  core: Core;
  run: RunInfo;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
}

export const REQUEST_TIMEOUT_MS = 30_000;

export async function runMain({ core, run, env, now, createHttp }: MainDeps): Promise<void> {
  // Mask the bootstrap secret before parsing, so even a parse error cannot print it.
  const rawKey = core.getInput('api-key');
  if (rawKey) maskSecret(rawKey, core.setSecret);

  const config = parseConfig(core.getInput, env, run, now);
  const apiKey = config.auth.apiKey;
  const http = createHttp({
    baseUrl: config.baseUrl,
    headers: { 'x-api-key': apiKey, 'user-agent': USER_AGENT },
    timeoutMs: REQUEST_TIMEOUT_MS,
    env,
  });
  try {
    const client = new D1Client(http, config.host, [apiKey]);
    const userId = config.serviceUserId === 'me' ? (await client.getUser('me')).id : config.serviceUserId;
    const minted = await client.createToken({ userId, name: config.tokenName, endDate: config.endDate });

    // The new secret is masked before any other line is written.
    maskSecret(minted.token, core.setSecret);
    // Then saved for post, so a failure below still leaves the token to be revoked.
    core.saveState(STATE.host, config.host);
    core.saveState(STATE.tokenId, minted.id);
    core.saveState(STATE.tokenName, minted.name);
    core.saveState(STATE.userId, minted.userId);
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
        `it ends ${minted.endDate} 23:59:59 UTC${config.skipRevoke ? ' (skip-revoke is set: the post step will leave it live)' : ' and the post step revokes it when the job ends'}.`,
    );
    if (config.jobSummary) {
      await writeMintSummary(core, { name: minted.name, id: minted.id, user: minted.userId, host: config.host, endDate: minted.endDate });
    }
  } finally {
    await http.close();
  }
}
