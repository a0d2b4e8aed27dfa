/**
 * The demo's command line (scripts/demo.ts), parsed strictly with node:util parseArgs: an unknown option or a stray
 * argument throws, so a misspelt `--brokr` prints the usage and exits 2 instead of running the plain demo.
 */
import { parseArgs } from 'node:util';

export const DEMO_USAGE = `usage: npm run demo -- [--mtls | --scope | --sign | --broker]

Runs the bundled action, main then post, through the runner model against a local DigiCert ONE emulator.

options (at most one):
  --mtls      bootstrap with a client authentication certificate (PKCS#12) instead of an API key
  --scope     a service user made for the job with only Software Trust's Signer role
  --sign      signing: both factors of the signer made for the job, the keypair checked, a real file signed
  --broker    no DigiCert ONE secret in the job: through the broker with the job's OIDC token
  --replicas N  with --broker: N brokers (2 to 4) on one throw-away PostgreSQL ledger behind a round-robin balancer,
              so main's exchange and post's revoke land on different replicas (needs PostgreSQL's server binaries)
  -h, --help  print this help and exit
`;

export type DemoMode = 'api-key' | 'mtls' | 'scope' | 'sign' | 'broker';

export function parseDemoArgs(argv: string[]): { help: boolean; mode: DemoMode; replicas?: number } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      mtls: { type: 'boolean' },
      scope: { type: 'boolean' },
      sign: { type: 'boolean' },
      broker: { type: 'boolean' },
      replicas: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const modes = (['mtls', 'scope', 'sign', 'broker'] as const).filter((m) => values[m]);
  if (modes.length > 1) throw new Error(`choose one of ${modes.map((m) => `--${m}`).join(', ')}`);
  const mode = modes[0] ?? 'api-key';
  if (values.replicas === undefined) return { help: values.help ?? false, mode };
  if (mode !== 'broker') throw new Error('--replicas goes with --broker');
  const replicas = Number(values.replicas);
  if (!/^\d+$/.test(values.replicas) || replicas < 2 || replicas > 4) throw new Error(`--replicas takes 2 to 4, not '${values.replicas}'`);
  return { help: values.help ?? false, mode, replicas };
}
