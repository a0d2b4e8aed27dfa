/** The post step with the real collaborators. Importing this module does nothing; dist/post.js calls run(). */
import * as actionsCore from '@actions/core';
import { systemClock } from '../clock.js';
import { guardedCore } from '../core.js';
import { createHttpClient, proxyPasswords } from '../http.js';
import { secretInputValues } from '../inputs.js';
import { runPost } from '../post.js';
import { redact } from '../secrets.js';

export async function run(): Promise<void> {
  const core = guardedCore(actionsCore);
  try {
    await runPost({ core, env: process.env, clock: systemClock, createHttp: createHttpClient });
  } catch (err) {
    // Post must never fail the job or hide main's result.
    core.warning(`Post step: ${redact(err instanceof Error ? err.message : String(err), [...secretInputValues(core.getInput), ...proxyPasswords(process.env)])}`);
  }
}
