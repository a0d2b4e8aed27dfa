/** The slice of @actions/core the steps use; passed in so tests can hand in their own. */
import type * as actionsCore from '@actions/core';
import { logSafe } from '../platform/text-safety.js';

export type Core = Pick<
  typeof actionsCore,
  'getInput' | 'getState' | 'saveState' | 'setOutput' | 'setSecret' | 'exportVariable' | 'info' | 'debug' | 'warning' | 'setFailed' | 'summary'
>;

/** Longer than any line the action writes on purpose; a longer one is a value from outside that ran on. */
export const LOG_LINE_MAX = 4000;

/**
 * The last guard before stdout: every line the action writes goes through logSafe, so even a value from outside
 * that a code path forgot to parse cannot start a workflow command (`::` at a line start, `##[` anywhere, or a
 * line break followed by either) or flood the log. Values are parsed at their boundaries; this is the second line.
 */
export function guardedCore(core: Core): Core {
  // Every value masked so far, longest first, is also taken out of each line before the cut: the runner masks whole
  // values only, so a line cut inside a secret would show the rest of it.
  const masked: string[] = [];
  const scrub = (m: string): string => masked.reduce((out, v) => out.split(v).join('***'), m);
  const text = (m: string | Error): string => logSafe(scrub(m instanceof Error ? m.message : String(m)), LOG_LINE_MAX);
  return {
    ...core,
    setSecret: (v) => {
      if (v && !masked.includes(v)) {
        masked.push(v);
        masked.sort((a, b) => b.length - a.length);
      }
      core.setSecret(v);
    },
    info: (m) => core.info(text(m)),
    debug: (m) => core.debug(text(m)),
    warning: (m, props) => core.warning(text(m), props),
    setFailed: (m) => core.setFailed(text(m)),
  };
}
