/**
 * The run context, read from the variables the runner sets for every step. (@actions/github's `context` reads
 * the same variables but also parses the event payload and brings Octokit into the bundle: +216 KB for four strings.)
 */
import type { RunInfo } from '../credentials/naming.js';

export function runInfoFromEnv(env: NodeJS.ProcessEnv): RunInfo {
  return {
    repository: env.GITHUB_REPOSITORY || 'unknown/unknown',
    runId: env.GITHUB_RUN_ID || '0',
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
    job: env.GITHUB_JOB || 'job',
  };
}
