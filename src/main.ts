/**
 * Main step: bootstrap credential in, one short-lived token out (masked before anything can print it).
 */
import { bootstrapConnection } from './bootstrap.js';
import { daysLeft } from './client-cert.js';
import type { Core } from './core.js';
import { D1Client } from './d1-api.js';
import type { HttpClient, HttpOptions } from './http.js';
import { parseConfig, secretInputValues } from './inputs.js';
import type { RunInfo } from './naming.js';
import { maskSecret } from './secrets.js';
import { STATE } from './state.js';
import { writeMintSummary } from './summary.js';

export interface MainDeps {
  core: Core;
  run: RunInfo;
  env: NodeJS.ProcessEnv;
  now: Date;
  createHttp: (opts: HttpOptions) => HttpClient;
}

export const REQUEST_TIMEOUT_MS = 30_000;

export async function runMain({ core, run, env, now, createHttp }: MainDeps): Promise<void> {
  // Mask the bootstrap secrets (line by line) before parsing, so even a parse error cannot print them.
  const secrets = secretInputValues(core.getInput);
  for (const s of secrets) maskSecret(s, core.setSecret);

  const config = parseConfig(core.getInput, env, run, now);
  if (config.auth.kind === 'client-cert') {
    const cert = config.auth.certificate;
    const left = daysLeft(cert, now);
    if (left < config.certificateExpiryWarningDays) {
      core.warning(
        `The client certificate in client-certificate (${cert.subject}) expires on ${cert.notAfter.toISOString()}, in ${left} day${left === 1 ? '' : 's'}. Request a new client authentication certificate for the service user in Account Manager and update the secret before then.`,
      );
    }
  }
  const conn = bootstrapConnection(config.host, config.auth);
  const http = createHttp({ ...conn.http, timeoutMs: REQUEST_TIMEOUT_MS, env });
  try {
    const client = new D1Client(http, conn.requestHost, secrets, config.auth.kind);
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
      `Minted DigiCert ONE API token '${minted.name}' (id ${minted.id}) for user ${minted.userId} on ${config.host}` +
        `${config.auth.kind === 'client-cert' ? ` (bootstrap: client certificate via ${conn.requestHost})` : ''}; it ends ${minted.endDate} 23:59:59 UTC${config.skipRevoke ? ' (skip-revoke is set: the post step will leave it live)' : ' and the post step revokes it when the job ends'}.`,
    );
    if (config.jobSummary) {
      await writeMintSummary(core, { name: minted.name, id: minted.id, user: minted.userId, host: config.host, endDate: minted.endDate });
    }
  } finally {
    await http.close();
  }
}
