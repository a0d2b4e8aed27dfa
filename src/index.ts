/**
 * Entry point for both steps: action.yml runs this file as `main` and as `post`, so the dependencies are bundled
 * once. The post step is recognised by the flag main saves before it does anything else.
 */
import * as actionsCore from '@actions/core';
import { systemClock } from './clock.js';
import { guardedCore } from './core.js';
import { createHttpClient, proxyPasswords } from './http.js';
import { runMain } from './main.js';
import { runPost } from './post.js';
import { runPreflight } from './preflight.js';
import { parsePreflight, secretInputValues } from './inputs.js';
import { runInfoFromEnv } from './run-context.js';
import { redact } from './secrets.js';
import { STATE, initState } from './state.js';

const core = guardedCore(actionsCore);

function message(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err), [...secretInputValues((name) => core.getInput(name)), ...proxyPasswords(process.env)]);
}

if (core.getState(STATE.isPost) === 'true') {
  try {
    await runPost({ core, env: process.env, clock: systemClock, createHttp: createHttpClient });
  } catch (err) {
    // Post must never fail the job or hide main's result.
    core.warning(`Post step: ${message(err)}`);
  }
} else {
  // Every state key first, in every mode, before anything can fail (see state.ts): a key main leaves unwritten
  // could be supplied to post by the job's environment, which the runner applies before STATE_*.
  initState(core.saveState);
  try {
    const deps = { core, env: process.env, clock: systemClock, createHttp: createHttpClient, run: runInfoFromEnv(process.env) };
    // Preflight reads and reports, and records no credential: post then finds nothing to revoke.
    if (parsePreflight(core.getInput)) await runPreflight(deps);
    else await runMain(deps);
  } catch (err) {
    core.setFailed(message(err));
  }
}
