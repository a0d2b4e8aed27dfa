/** The post step with the real collaborators. Importing this module does nothing; dist/post.js calls run(). */
import * as actionsCore from '@actions/core';
import { systemClock } from '../platform/clock.js';
import { guardedCore } from '../runner/core.js';
import { createHttpClient, proxyPasswords } from '../platform/http.js';
import { secretInputValues } from '../runner/inputs.js';
import { runPost } from '../steps/post.js';
import { redact } from '../platform/text-safety.js';

export async function run(): Promise<void> {
  const core = guardedCore(actionsCore);
  try {
    await runPost({ core, env: process.env, clock: systemClock, createHttp: createHttpClient });
  } catch (err) {
    // Post must never fail the job or hide main's result.
    core.warning(`Post step: ${redact(err instanceof Error ? err.message : String(err), [...secretInputValues(core.getInput), ...proxyPasswords(process.env)])}`);
  }
}
