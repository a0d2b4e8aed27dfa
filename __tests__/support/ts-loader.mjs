// `node --import ./__tests__/support/ts-loader.mjs file.ts`: runs the TypeScript sources in a child process the way
// tsx (which @github/local-action uses) does, so a test can start src/ or scripts/ as they are, without a build.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
