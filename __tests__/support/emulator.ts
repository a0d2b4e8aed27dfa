/** Test helpers around the emulator: start one with the standard tenant, and call it as a later step would. */
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { scanJob } from '../../harness/leaks.js';
import { RunnerJob, type JobOptions } from '../../harness/runner.js';
import { D1Emulator, type EmulatorOptions } from '../../emulator/server.js';
import { seedScenario, type Scenario } from '../../emulator/scenario.js';
import { loopbackSubdomainLookup } from '../../src/http.js';

export interface Tenant {
  emu: D1Emulator;
  s: Scenario;
}

export async function startTenant(opts: EmulatorOptions = {}): Promise<Tenant> {
  const emu = await D1Emulator.start(opts);
  return { emu, s: seedScenario(emu) };
}

/** What a later step does with the minted token: call the API with it. Returns the HTTP status. */
export async function statusWith(emu: D1Emulator, apiKey: string, path = '/account/api/v1/user/me'): Promise<number> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem } });
  try {
    const res = await request(`https://${emu.host}${path}`, { headers: { 'x-api-key': apiKey }, dispatcher });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await dispatcher.destroy();
  }
}

/**
 * What a later signing step does with both factors: Software Trust on the clientauth. name, with the token as
 * x-api-key and the client certificate (a PKCS#12 and its password, as SM_CLIENT_CERT_FILE/_PASSWORD give it) in the
 * handshake. Returns the HTTP status, or 'handshake' when the TLS handshake failed.
 */
export async function softwareTrustStatus(emu: D1Emulator, apiKey: string, pfx: Buffer, passphrase: string): Promise<number | 'handshake'> {
  const dispatcher = new Agent({ connect: { ca: emu.caPem, pfx, passphrase, lookup: loopbackSubdomainLookup } });
  try {
    const res = await request(`https://${emu.clientAuthHost}/signingmanager/api/v1/certificates`, { headers: { 'x-api-key': apiKey }, dispatcher });
    await res.body.dump();
    return res.statusCode;
  } catch (err) {
    // The server ends the handshake (closed socket, reset, or a TLS alert); anything else is the caller's error.
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code.startsWith('ERR_SSL_')) return 'handshake';
    throw err;
  } finally {
    await dispatcher.destroy();
  }
}

/** The secret inputs a job was given, and the token its main step minted. */
function secretsOf(j: RunnerJob): Record<string, string> {
  const s: Record<string, string> = {};
  for (const name of ['api-key', 'client-certificate', 'client-key', 'client-certificate-password']) {
    const v = j.inputs[name];
    if (v?.trim()) s[name] = v;
  }
  const minted = j.steps.find((x) => x.phase === 'main')?.outputs.token;
  if (minted) s.minted = minted;
  return s;
}

/**
 * One emulator for a test file, and a job factory. After each test, every job's kept bytes (log, stderr, state,
 * env, outputs but the `token` output, summary, RUNNER_TEMP) are scanned for its secrets, RUNNER_TEMP must be as it
 * was, and the jobs are cleaned up and the emulator's faults cleared.
 */
export function useTenant(): {
  readonly tenant: Tenant;
  /** `env` is the job's env:; `more` sets other runner-model options (stepEnv, secrets, postIf, stepDebug, github…). */
  job(inputs: Record<string, string>, env?: Record<string, string>, more?: Omit<Partial<JobOptions>, 'inputs' | 'env' | 'caPem'>): RunnerJob;
} {
  let tenant: Tenant | undefined;
  const jobs: RunnerJob[] = [];
  beforeAll(async () => {
    tenant = await startTenant();
  });
  afterAll(async () => {
    await tenant?.emu.close();
  });
  afterEach(() => {
    tenant!.emu.faults.length = 0;
    try {
      for (const j of jobs) {
        const allowInEnv = j.inputs['export-env'] === 'true' ? ['minted'] : [];
        expect(scanJob(j, secretsOf(j), { allowInOutput: { token: 'minted' }, allowInEnv }), 'a secret leaked').toEqual([]);
        expect(j.runnerTempFiles(), 'files left in RUNNER_TEMP').toEqual([]);
      }
    } finally {
      while (jobs.length) jobs.pop()!.cleanup();
    }
  });
  return {
    get tenant() {
      return tenant!;
    },
    job(inputs, env = {}, more = {}) {
      const j = new RunnerJob({ ...more, inputs, env, caPem: tenant!.emu.caPem });
      jobs.push(j);
      return j;
    },
  };
}
