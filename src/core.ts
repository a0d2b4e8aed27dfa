/** The slice of @actions/core the steps use; passed in so tests can hand in their own. */
import type * as actionsCore from '@actions/core';

export type Core = Pick<
  typeof actionsCore,
  'getInput' | 'getState' | 'saveState' | 'setOutput' | 'setSecret' | 'exportVariable' | 'info' | 'debug' | 'warning' | 'setFailed' | 'summary'
>;
