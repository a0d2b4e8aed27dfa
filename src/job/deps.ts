/**
 * What a step (main, preflight, post) is handed by its entry: the collaborators, injected so tests can give fakes.
 * Kept below the steps so no step imports another to share these types.
 */
import type { Clock } from '../platform/clock.js';
import type { Core } from '../runner/core.js';
import { parseStepConfig, type StepConfig } from '../runner/inputs.js';
import type { HttpClient, HttpOptions } from '../platform/http.js';
import type { Made } from '../credentials/index.js';
import type { RunInfo } from '../credentials/naming.js';
import type { Id, Name } from '../d1/client.js';

export interface PostDeps {
  core: Core;
  env: NodeJS.ProcessEnv;
  createHttp: (opts: HttpOptions) => HttpClient;
  /** The one source of time: today's date and every deadline of the step. */
  clock: Clock;
}

/** Main's (and preflight's, which runs in its place) collaborators: post's, plus the run the credential is named after. */
export interface MainDeps extends PostDeps {
  run: RunInfo;
}

/** How post ended, worst first in the summary (post.ts RANK). */
export type PostOutcome = 'nothing' | 'skipped' | 'revoked' | 'gone' | 'expired' | 'failed';

/** Post's settings: main already refused bad ones, so post falls back to the defaults and still revokes. */
export function stepConfig(core: Core): StepConfig {
  try {
    return parseStepConfig(core.getInput);
  } catch (err) {
    // Main already refused these inputs; post still revokes, with the defaults.
    core.info(`Post step uses default settings: ${err instanceof Error ? err.message : String(err)}`);
    return { skipRevoke: false, jobSummary: true, timeoutSeconds: 60 };
  }
}

export interface Minted {
  made: Made & { id: Id; userId: Id };
  secret: string;
  /** The credential's name as DigiCert ONE's answer stated it; '' when it did not (made.name is the one asked for). */
  name: Name | '';
  /** The roles of an ephemeral service user, as labels (empty for a named service user's token). */
  scope: string[];
}

export interface MakeDeps extends MainDeps {
  /** The step's start (one reading of its clock), and the end of its time budget. */
  now: Date;
  deadline: number;
  /** Bootstrap secrets, scrubbed from every text a client hands up. */
  secrets: readonly string[];
}
