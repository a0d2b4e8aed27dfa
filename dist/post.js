// The post step (action.yml `post:`). Hand-written, not generated: a step is post because the runner started this
// file, never because of anything in the environment.
import { post } from './index.js';

await post();
