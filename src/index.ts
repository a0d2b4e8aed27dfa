/**
 * The bundle's library: both steps, bundled once (ncc) so main and post share one copy of the dependencies. It runs
 * nothing on import. The runner starts dist/main.js or dist/post.js (action.yml `main:` and `post:`), each of which
 * imports this bundle and calls its own step.
 */
export { run as main } from './entry/main.js';
export { run as post } from './entry/post.js';
