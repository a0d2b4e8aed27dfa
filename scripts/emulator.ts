/**
 * `npm run emulator [-- --port N] [-- --write-env PATH]`: the DigiCert ONE emulator on its own, with the seeded
 * tenant, until Ctrl-C. Its CA certificate is written next to the build so a client can trust it
 * (NODE_EXTRA_CA_CERTS). It prints the D1_LIVE_* values that point `npm run test:live` at it (the same code path
 * a real tenant takes); `--write-env` also writes them to a file to source.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { D1Emulator } from '../emulator/server.js';
import { toP12Base64 } from '../emulator/pki.js';
import { seedScenario } from '../emulator/scenario.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg('--port') ?? 0);
const emu = await D1Emulator.start({ port });
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
const envFile = arg('--write-env');
if (envFile) {
  mkdirSync(dirname(resolve(envFile)), { recursive: true });
  writeFileSync(envFile, `${live.map((l) => `export ${l}`).join('\n')}\n`, { mode: 0o600 });
  // The same with the bootstrap's client certificate (a .p12 as users store it) instead of its API key.
  const password = randomBytes(12).toString('hex');
  const p12 = toP12Base64(emu.issueClientCert(s.bootstrap.user.id), password);
  const mtls = [...live.filter((l) => !l.startsWith('D1_LIVE_API_KEY=')), `D1_LIVE_CLIENT_CERT=${p12}`, `D1_LIVE_CLIENT_CERT_PASSWORD=${password}`];
  writeFileSync(`${envFile}.mtls`, `${mtls.map((l) => `export ${l}`).join('\n')}\n`, { mode: 0o600 });
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

try: curl --cacert ${caFile} -H "x-api-key: ${s.bootstrap.apiKey}" https://${emu.host}/account/api/v1/user/me`);
process.on('SIGINT', () => void emu.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void emu.close().then(() => process.exit(0)));
