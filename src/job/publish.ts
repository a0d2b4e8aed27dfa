/**
 * Main's hand-over: the outputs, the environment variables DigiCert's tools read (with export-env), one log line of
 * what was made and how it ends, and the job summary. Secrets here were masked when they were made (make.ts).
 */
import { KINDS } from '../credentials/index.js';
import type { Core } from '../runner/core.js';
import type { Config } from '../runner/inputs.js';
import { writeMintSummary } from '../runner/summary.js';
import type { JobCredentials } from './make.js';

export function publish(core: Core, config: Config, made: JobCredentials, requestHost: string): void {
  const { made: m, secret, jobCert } = made;
  core.setOutput('token', secret);
  core.setOutput('token-id', m.kind === 'api-token' ? m.id : '');
  // Only what DigiCert ONE's answer confirmed (make.ts warned about the rest).
  core.setOutput('token-name', made.name);
  core.setOutput('user-id', m.userId);
  core.setOutput('ephemeral-user-id', m.kind === 'service-user' ? m.id : '');
  core.setOutput('expires-at', m.endDate ? `${m.endDate}T23:59:59Z` : '');
  core.setOutput('base-url', config.baseUrl);
  core.setOutput('job-certificate-file', jobCert?.file ?? '');
  core.setOutput('job-certificate-password', jobCert?.password ?? '');
  core.setOutput('keypair-id', made.keypairId ?? '');

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

  const named = made.name ? `'${made.name}' ` : '';
  const what =
    m.kind === 'api-token'
      ? `DigiCert ONE API token ${named}(id ${m.id}) for user ${m.userId}`
      : `ephemeral DigiCert ONE service user ${named}(id ${m.id}) with ${made.scope.join('; ')} and its API token`;
  const ends = m.endDate ? `${jobCert ? 'they end' : 'it ends'} ${m.endDate} 23:59:59 UTC` : 'DigiCert ONE confirmed no end date';
  const via = config.auth.kind === 'client-cert' ? ` (bootstrap: client certificate via ${requestHost})` : '';
  const cert = jobCert ? `, and a client authentication certificate (id ${jobCert.id}) for it, as a PKCS#12 file in RUNNER_TEMP` : '';
  core.info(
    `Created ${what}${cert} on ${config.host}${via}; ${ends}` +
      `${config.step.skipRevoke ? ' (skip-revoke is set: the post step leaves it live)' : ` and the post step ${KINDS[m.kind].revokes}${jobCert ? ', disables the certificate and removes the file,' : ''} when the job ends`}.`,
  );
}

/** The job summary's rows (never a secret). A courtesy: a runner without one gets a warning, never a failed step. */
export async function summarise(core: Core, config: Config, made: JobCredentials): Promise<void> {
  if (!config.step.jobSummary) return;
  const { made: m, jobCert } = made;
  const row = { name: made.name || 'not confirmed', user: m.userId, host: config.host, endDate: m.endDate };
  await writeMintSummary(core, [
    { ...row, kind: m.kind === 'api-token' ? 'API token' : 'ephemeral service user', id: m.id, scope: made.scope.join('; ') || 'the roles of that user' },
    ...(jobCert ? [{ ...row, kind: 'client certificate (PKCS#12 in RUNNER_TEMP)', id: jobCert.id, scope: 'the same user' }] : []),
  ]).catch((err: unknown) => core.warning(`Could not write the job summary (the credentials were made and handed over all the same): ${err instanceof Error ? err.message : String(err)}`));
}
