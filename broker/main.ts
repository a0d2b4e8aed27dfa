/**
 * The broker's entry point (bundled to dist/broker/index.js; the Dockerfile runs that file):
 * `node dist/broker/index.js --config broker.json` (or D1_BROKER_CONFIG). The only place that reads the system clock.
 */
import { appendFileSync } from 'node:fs';
import { systemClock } from '../src/platform/clock.js';
import { createHttpClient } from '../src/platform/http.js';
import { loadConfig } from './config.js';
import { sqliteAvailable } from './ledger.js';
import { startBroker } from './server.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const file = arg('--config') ?? process.env.D1_BROKER_CONFIG;
if (!file) {
  console.error('d1-token-broker: give the configuration file: --config broker.json (or D1_BROKER_CONFIG). See docs/broker.md.');
  process.exit(2);
}
if (!sqliteAvailable()) {
  console.error(`d1-token-broker: needs node:sqlite (Node >= 22.5, 24 recommended); this is Node ${process.version}.`);
  process.exit(2);
}

try {
  const config = loadConfig(file, process.env, new Date(systemClock.now()));
  const audit = config.auditLog === '-' ? (line: string) => process.stdout.write(`${line}\n`) : (line: string) => appendFileSync(config.auditLog, `${line}\n`, { mode: 0o600 });
  const broker = await startBroker({ config, clock: systemClock, createHttp: createHttpClient, audit, log: (line) => console.error(line) });
  console.error(`d1-token-broker listening on ${config.listen.host}:${broker.port} (audience ${config.audience}, issuer ${config.issuer}, DigiCert ONE ${config.digicertHost}, ${config.policies.length} polic${config.policies.length === 1 ? 'y' : 'ies'})`);
  const stop = (): void => void broker.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  // Config errors name the field, never a secret's value (loadConfig never repeats one).
  console.error(`d1-token-broker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
