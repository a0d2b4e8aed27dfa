/**
 * The job's second factor (`client-certificate-for-job`): what Software Trust asks for besides the token.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { KINDS, type Made } from '../credentials/index.js';
import type { CreateContext } from '../credentials/mint.js';
import { D1Client, type Id, type Name } from '../d1/client.js';
import { traceFor } from '../d1/trace.js';
import { writeNewFile } from '../platform/files.js';
import { InputError } from '../platform/input-error.js';
import { maskSecret } from '../platform/text-safety.js';
import { USER_AGENT } from '../platform/version.js';
import type { Config } from '../runner/inputs.js';
import { recorded, type Ledger } from './ledger.js';
import type { MakeDeps, Minted } from './deps.js';

export interface JobCertificate {
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
export async function makeJobCertificate(deps: MakeDeps, ledger: Ledger, config: Config, minted: Minted): Promise<JobCertificate> {
  const { core, env, createHttp, clock, deadline, secrets } = deps;
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
    // The end date asked for: the token's as asked (the one DigiCert ONE confirmed may be unknown, made.endDate '').
    const pending: Made = { kind: 'client-certificate', id: '', name: made.name, userId: made.userId, endDate: config.endDate };
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
        return client.createClientCert({ csrPem: request.csrPem, name: (pending.name = nickname()), endDate: config.endDate });
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
  ledger.pending({ kind: 'pkcs12-file', id: name, name: 'job client certificate' as Name, userId: made.userId, endDate: config.endDate });
  await writeNewFile(file, pfx);
  return { id: certificate.id, file, password };
}
