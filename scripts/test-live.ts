/**
 * `npm run test:live`: the contract suite (__tests__/contract) against a real DigiCert ONE tenant, named by the
 * D1_LIVE_* variables. Without the required ones it says what it needs and exits 0, having tested nothing (and
 * saying so). The same suite runs against the emulator in `npm test`; `npm run emulator` prints D1_LIVE_* values
 * that point this command at the standalone emulator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIVE_VARS, REQUIRED_LIVE, missingLive } from '../__tests__/contract/target.js';

const missing = missingLive(process.env);
if (missing.length) {
  const lines = Object.entries(LIVE_VARS).map(([name, what]) => `  ${name.padEnd(29)} ${REQUIRED_LIVE.includes(name as never) || name === 'D1_LIVE_API_KEY' ? '(required) ' : ''}${what}`);
  console.log(`test:live: NOT RUN, nothing was tested: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set.

It runs the contract suite against a real DigiCert ONE tenant. Set:
${lines.join('\n')}

Everything it creates is named d1ta-contract-* and deleted, also after a failure. To try it against the emulator:
  npm run emulator -- --write-env .tmp/live.env   (in another shell), then: set -a; . .tmp/live.env; set +a; npm run test:live
  (.tmp/live.env.mtls holds the same with a client certificate instead of the API key)`);
  process.exit(0);
}

const vitest = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
// --reporter on the command line: the JSON report CI reads for `npm test` is not overwritten by this run.
const run = spawnSync(process.execPath, [vitest, 'run', '__tests__/contract/contract.test.ts', '--reporter=default', '--coverage.enabled=false', '--testTimeout=120000', '--hookTimeout=180000'], {
  stdio: 'inherit',
  env: { ...process.env, D1_CONTRACT_TARGET: 'live' },
});
const report = join(process.cwd(), '.tmp', 'contract-report-live.md');
if (existsSync(report)) {
  console.log(`\n${readFileSync(report, 'utf8')}\nThe table above (also in .tmp/contract-report-live.md) holds field names only: paste it into an issue to contribute this run.`);
}
process.exit(run.status ?? 1);
