/**
 * The broker's entry point (bundled to dist/broker/index.js; the Dockerfile runs that file):
 * `node dist/broker/index.js --config broker.json` (or D1_BROKER_CONFIG); `--check-config`, `--help` (broker/cli.ts).
 * The only place that reads the system clock.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { systemClock } from '../src/platform/clock.js';
import { createHttpClient } from '../src/platform/http.js';
import { checkLedgerFolder, parseCli } from './cli.js';
import { loadConfig } from './config.js';
import { sqliteAvailable } from './ledger.js';
import { runnerToken, runProbe } from './probe.js';
import { startBroker } from './server.js';

const parsed = parseCli(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l), now: () => new Date(systemClock.now()) });
if (parsed.kind === 'exit') process.exit(parsed.code);
if (parsed.kind === 'probe') {
  const failures = await runProbe({
    url: parsed.url,
    audience: parsed.audience,
    policies: parsed.policies,
    ...(parsed.caFile ? { ca: readFileSync(parsed.caFile, 'utf8') } : {}),
    token: runnerToken(process.env),
    log: (l) => console.log(l),
  }).catch((err: unknown) => {
    console.error(`d1-token-broker probe: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  });
  process.exit(failures > 0 ? 1 : 0);
}

try {
  const config = loadConfig(parsed.file, process.env, new Date(systemClock.now()));
  if (!config.postgres) {
    if (!sqliteAvailable()) {
      console.error(`d1-token-broker: needs node:sqlite (Node >= 22.5, 24 recommended); this is Node ${process.version}.`);
      process.exit(2);
    }
    checkLedgerFolder(config.ledgerFile);
  }
  // A line that cannot be written throws: the server then refuses the mint (and revokes what it made).
  const audit = config.auditLog === '-' ? (line: string) => void process.stdout.write(`${line}\n`) : (line: string) => appendFileSync(config.auditLog, `${line}\n`, { mode: 0o600 });
  const broker = await startBroker({ config, clock: systemClock, createHttp: createHttpClient, audit, log: (line) => console.error(line) });
  console.error(`d1-token-broker listening on ${config.listen.host}:${broker.port} (audience ${config.audience}, issuer ${config.issuer}, DigiCert ONE ${config.digicertHost}, ${config.policies.length} polic${config.policies.length === 1 ? 'y' : 'ies'})`);
  const stop = (): void => void broker.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    const r = broker.reload();
    console.error(r.ok ? `d1-token-broker: reloaded ${r.policies} polic${r.policies === 1 ? 'y' : 'ies'} and the TLS files` : `d1-token-broker: reload refused, still serving the previous policy and TLS files: ${r.why}`);
  });
} catch (err) {
  // Config errors name the field, never a secret's value (loadConfig never repeats one).
  console.error(`d1-token-broker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
