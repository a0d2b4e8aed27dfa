/**
 * The main step with the real collaborators. Importing this module does nothing; the runner's entry (dist/main.js)
 * calls run(). Which step runs is decided by the file action.yml names, never by anything the job's environment can
 * set: an earlier step's GITHUB_ENV can supply STATE_* variables to this step.
 */
import * as actionsCore from '@actions/core';
import { systemClock } from '../platform/clock.js';
import { guardedCore } from '../runner/core.js';
import { createHttpClient, proxyPasswords } from '../platform/http.js';
import { parsePreflight, secretInputValues } from '../runner/inputs.js';
import { runMain } from '../steps/main.js';
import { runInfoFromEnv } from '../runner/run-context.js';
import { redact } from '../platform/text-safety.js';
import { initState } from '../runner/state.js';

export async function run(): Promise<void> {
  const core = guardedCore(actionsCore);
  // Every state key first, before anything can fail (see state.ts).
  initState(core.saveState);
  try {
    const deps = { core, env: process.env, clock: systemClock, createHttp: createHttpClient, run: runInfoFromEnv(process.env) };
    // Preflight reads and reports, and records no credential: post then finds nothing to revoke.
    // Preflight is a chunk of its own: a minting step never loads it.
    if (parsePreflight(core.getInput)) await (await import('../steps/preflight.js')).runPreflight(deps);
    else await runMain(deps);
  } catch (err) {
    core.setFailed(redact(err instanceof Error ? err.message : String(err), [...secretInputValues(core.getInput), ...proxyPasswords(process.env)]));
  }
}
