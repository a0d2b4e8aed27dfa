/**
 * The broker's command line (broker/main.ts runs it): parsed with node:util parseArgs, so an unknown option is an
 * error with the usage (exit 2) rather than ignored.
 *
 *   d1-token-broker --config broker.json        serve (or D1_BROKER_CONFIG)
 *   d1-token-broker --check-config --config …   check the config and policy files, exit 0 or 1 (CI on the policy repo)
 *   d1-token-broker --help                      this usage, exit 0
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';

export const USAGE = `Usage: d1-token-broker [--config FILE] [--check-config] [--help]
       d1-token-broker probe --url URL --audience AUDIENCE --policy NAME [--policy NAME …] [--ca-file PEM]

  --config FILE    the broker's configuration (JSON; default: $D1_BROKER_CONFIG). See docs/broker.md.
  --check-config   read the configuration and its policy file, report the first mistake, and exit:
                   0 when both are good, 1 when not (run it in CI on the repository holding the policy)
  --help           print this and exit

  probe            try exchanges that must fail (another audience, a stranger's token, a replay) against a
                   running broker, from a GitHub Actions job of a repository no policy trusts; exit 1 if any succeeds

Signals: SIGHUP reads the policy and TLS files again (a bad file keeps the running ones, and the log says why);
SIGTERM and SIGINT stop it.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** The time `--check-config` judges the config at (certificate validity): the entry's clock, never read here. */
  now: () => Date;
}

export type Parsed = { kind: 'exit'; code: number } | { kind: 'serve'; file: string } | { kind: 'probe'; url: string; audience: string; policies: string[]; caFile?: string };

/** Parses the arguments; prints usage or errors itself. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Parsed {
  if (argv[0] === 'probe') {
    try {
      const { values: v } = parseArgs({ args: argv.slice(1), options: { url: { type: 'string' }, audience: { type: 'string' }, policy: { type: 'string', multiple: true }, 'ca-file': { type: 'string' } }, strict: true });
      if (!v.url || !v.audience || !v.policy?.length) throw new Error('probe needs --url, --audience and at least one --policy');
      return { kind: 'probe', url: v.url, audience: v.audience, policies: v.policy, ...(v['ca-file'] ? { caFile: v['ca-file'] } : {}) };
    } catch (err) {
      io.err(`d1-token-broker: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
      return { kind: 'exit', code: 2 };
    }
  }
  let values: { config?: string; 'check-config'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string' }, 'check-config': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    io.err(`d1-token-broker: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return { kind: 'exit', code: 2 };
  }
  if (values.help) {
    io.out(USAGE);
    return { kind: 'exit', code: 0 };
  }
  const file = values.config ?? env.D1_BROKER_CONFIG;
  if (!file) {
    io.err(`d1-token-broker: give the configuration file: --config broker.json (or D1_BROKER_CONFIG).\n\n${USAGE}`);
    return { kind: 'exit', code: 2 };
  }
  if (values['check-config']) {
    try {
      const config = loadConfig(file, env, io.now());
      io.out(`d1-token-broker: ${file} is good (${config.policies.length} polic${config.policies.length === 1 ? 'y' : 'ies'} in ${config.policyFile})`);
      return { kind: 'exit', code: 0 };
    } catch (err) {
      io.err(`d1-token-broker: ${err instanceof Error ? err.message : String(err)}`);
      return { kind: 'exit', code: 1 };
    }
  }
  return { kind: 'serve', file };
}

/** The SQLite ledger's folder must exist and be writable: said with its path, not "unable to open database file". */
export function checkLedgerFolder(ledgerFile: string): void {
  const folder = dirname(ledgerFile);
  let isDir = false;
  try {
    isDir = statSync(folder).isDirectory();
  } catch {
    throw new Error(`broker config: ledgerFile: the folder ${folder} does not exist (create it, or mount the ledger's volume there)`);
  }
  if (!isDir) throw new Error(`broker config: ledgerFile: ${folder} is not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new Error(`broker config: ledgerFile: the folder ${folder} is not writable by this user (uid ${process.getuid?.() ?? '?'})`);
  }
}
