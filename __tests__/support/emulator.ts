/** Test helpers around the emulator: start one with the standard tenant, and call it as a later step would. */
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RunnerJob } from '../../harness/runner.js';
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
 * One emulator for a test file, and a job factory whose jobs are cleaned up (and the emulator's faults cleared)
 * after each test.
 */
export function useTenant(): { readonly tenant: Tenant; job(inputs: Record<string, string>, env?: Record<string, string>): RunnerJob } {
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
    while (jobs.length) jobs.pop()!.cleanup();
  });
  return {
    get tenant() {
      return tenant!;
    },
    job(inputs, env = {}) {
      const j = new RunnerJob({ inputs, env, caPem: tenant!.emu.caPem });
      jobs.push(j);
      return j;
    },
  };
}
