/**
 * `npm run emulator -- [options]`: the DigiCert ONE emulator on its own, with the seeded tenant, until Ctrl-C. Its CA
 * certificate is written next to the build so a client can trust it. It prints the D1_LIVE_* values that point
 * `npm run test:live` at it (the same code path a real tenant takes). `--help` lists the options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run emulator -- [options]

Starts the DigiCert ONE emulator (HTTPS on 127.0.0.1, seeded users, clientauth. on the same port) until Ctrl-C,
and prints its API keys and the D1_LIVE_* values for npm run test:live.

options:
  --port N                    listen on port N (default 0: a free port)
  --write-env PATH            also write the D1_LIVE_* values to PATH (and, with a client certificate
                              instead of the API key, to PATH.mtls), to source before npm run test:live
  --local-action-env PATH     also write a dotenv file for @github/local-action: the action's inputs
                              (INPUT_*) and GITHUB_*/RUNNER_* values for one main and post run (CONTRIBUTING.md)
  -h, --help                  print this help and exit
`;

export interface EmulatorArgs {
  help: boolean;
  port: number;
  writeEnv: string | undefined;
  localActionEnv: string | undefined;
}

/** The command line, strictly: an unknown option or a stray argument throws (the caller prints the usage). */
export function parseEmulatorArgs(argv: string[]): EmulatorArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'write-env': { type: 'string' },
      'local-action-env': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const portText = values.port ?? '0';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new Error(`--port: expected a port number from 0 to 65535, got '${portText}'`);
  return { help: values.help ?? false, port, writeEnv: values['write-env'], localActionEnv: values['local-action-env'] };
}

/**
 * A dotenv file for `local-action run . src/entry/main.ts <file> --post src/entry/post.ts`: what the runner would
 * hand the step (INPUT_* with action.yml's names, the github and runner contexts). The emulator's CA goes in as the
 * tls-ca-certificates input, the one way the action trusts a CA besides Node's roots.
 */
export function localActionEnv(v: { host: string; apiKey: string; serviceUserId: string; caPem: string; runnerTemp: string }): string {
  const lines = [
    `INPUT_API-KEY=${v.apiKey}`,
    `INPUT_HOST=${v.host}`,
    `INPUT_SERVICE-USER-ID=${v.serviceUserId}`,
    // dotenv reads a double-quoted value across lines, which a PEM needs.
    `INPUT_TLS-CA-CERTIFICATES="${v.caPem.replace(/\r\n/g, '\n').trim()}"`,
    'INPUT_LIFETIME-DAYS=1',
    'INPUT_TIMEOUT-SECONDS=30',
    'INPUT_JOB-SUMMARY=false',
    `RUNNER_TEMP=${v.runnerTemp}`,
    'GITHUB_REPOSITORY=octo-org/local-action',
    'GITHUB_RUN_ID=1',
    'GITHUB_RUN_ATTEMPT=1',
    'GITHUB_JOB=local',
    'GITHUB_WORKFLOW=local-action',
  ];
  return `${lines.join('\n')}\n`;
}

async function serve(args: EmulatorArgs): Promise<void> {
  // Loaded only to serve, so --help and a usage error answer at once.
  const [{ D1Emulator }, { toP12Base64 }, { seedScenario }] = await Promise.all([import('../emulator/server.js'), import('../emulator/pki.js'), import('../emulator/scenario.js')]);
  const emu = await D1Emulator.start({ port: args.port });
  const s = seedScenario(emu);
  const caFile = join(process.cwd(), '.build', 'emulator-ca.pem');
  mkdirSync(dirname(caFile), { recursive: true });
  writeFileSync(caFile, emu.caPem);
  for (const [name, server] of [[emu.host, emu.server], [emu.clientAuthHost, emu.clientAuthServer]] as const) {
    server.on('request', (req) => console.log(`${new Date().toISOString()} ${name} ${req.method} ${req.url}`));
  }
  const live = [
    `D1_LIVE_HOST=${emu.host}`,
    `D1_LIVE_API_KEY=${s.bootstrap.apiKey}`,
    `D1_LIVE_SERVICE_USER_ID=${s.signer.id}`,
    `D1_LIVE_SCOPE='Software Trust: Signer'`,
    `D1_LIVE_CA_FILE=${caFile}`,
  ];
  const envFile = args.writeEnv;
  if (envFile) {
    mkdirSync(dirname(resolve(envFile)), { recursive: true });
    writeFileSync(envFile, `${live.map((l) => `export ${l}`).join('\n')}\n`, { mode: 0o600 });
    // The same with the bootstrap's client certificate (a .p12 as users store it) instead of its API key.
    const password = randomBytes(12).toString('hex');
    const p12 = toP12Base64(emu.issueClientCert(s.bootstrap.user.id), password);
    const mtls = [...live.filter((l) => !l.startsWith('D1_LIVE_API_KEY=')), `D1_LIVE_CLIENT_CERT=${p12}`, `D1_LIVE_CLIENT_CERT_PASSWORD=${password}`];
    writeFileSync(`${envFile}.mtls`, `${mtls.map((l) => `export ${l}`).join('\n')}\n`, { mode: 0o600 });
  }
  if (args.localActionEnv) {
    const file = resolve(args.localActionEnv);
    const runnerTemp = join(dirname(file), 'local-action-runner-temp');
    mkdirSync(runnerTemp, { recursive: true });
    writeFileSync(file, localActionEnv({ host: emu.host, apiKey: s.bootstrap.apiKey, serviceUserId: s.signer.id, caPem: emu.caPem, runnerTemp }), { mode: 0o600 });
  }
  console.log(`DigiCert ONE emulator on https://${emu.host} (demo environment: https://${emu.demoHost})
CA certificate: ${caFile}  (export NODE_EXTRA_CA_CERTS=${caFile})

bootstrap service user ${s.bootstrap.user.id}  x-api-key: ${s.bootstrap.apiKey}
target service user    ${s.signer.id}
administrator          ${s.admin.user.id}  x-api-key: ${s.admin.apiKey}
demo bootstrap         ${s.demo.user.id}  x-api-key: ${s.demo.apiKey}  (works on ${emu.demoHost} only)
mutual TLS             https://${emu.clientAuthHost} (same port; client certificates from the emulator's client CA)

npm run test:live against this emulator (the same code path as a real tenant)${envFile ? `; also written to ${envFile} (and with a client certificate instead of the key: ${envFile}.mtls)` : ''}:
${live.map((l) => `  export ${l}`).join('\n')}
${args.localActionEnv ? `\n@github/local-action inputs written to ${args.localActionEnv}\n` : ''}
try: curl --cacert ${caFile} -H "x-api-key: ${s.bootstrap.apiKey}" https://${emu.host}/account/api/v1/user/me`);
  process.on('SIGINT', () => void emu.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void emu.close().then(() => process.exit(0)));
}

// Run as a script, not imported by a test. Compared as URLs so a Windows path (backslashes, drive letter) matches too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let args: EmulatorArgs;
  try {
    args = parseEmulatorArgs(process.argv.slice(2));
  } catch (err) {
    // A usage error, as most command-line tools do: exit 2, the reason, then how to call it.
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) process.stdout.write(USAGE);
  else await serve(args);
}
