
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { scanJob } from '../../harness/leaks.js';
import { RunnerJob, type JobOptions } from '../../harness/runner.js';
import { D1Emulator, type EmulatorOptions } from '../../emulator/server.js';
import { seedScenario, type Scenario } from '../../emulator/scenario.js';

export interface Tenant {
  emu: D1Emulator;
  s: Scenario;
}

export async function startTenant(opts: EmulatorOptions = {}): Promise<Tenant> {
  const emu = await D1Emulator.start(opts);
  return { emu, s: seedScenario(emu) };
}

export { softwareTrustStatus, statusWith } from '../../harness/later-step.js';

function caFile(pem: string): string {
  const file = join(tmpdir(), `d1-emulator-ca-${process.pid}.pem`);
  writeFileSync(file, pem);
  return file;
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
      // D1_TEST_ENTRY=<an earlier single-file bundle> runs these tests against it (to show a new test fails there).
      // Such a bundle trusted NODE_EXTRA_CA_CERTS, so the emulator's CA goes there too.
      const earlier = process.env.D1_TEST_ENTRY ? { entry: process.env.D1_TEST_ENTRY, env: { NODE_EXTRA_CA_CERTS: caFile(tenant!.emu.caPem), ...env } } : { env };
      const j = new RunnerJob({ ...more, inputs, caPem: tenant!.emu.caPem, ...earlier });
      jobs.push(j);
      return j;
    },
  };
}
