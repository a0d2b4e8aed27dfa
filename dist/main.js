// The main step (action.yml `main:`). Hand-written, not generated: it only starts the bundle's main step.
import { main } from './index.js';

await main();
