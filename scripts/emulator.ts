/**
 * `npm run emulator [-- --port N]`: the DigiCert ONE emulator on its own, with the seeded tenant, until Ctrl-C.
 * Its CA certificate is written next to the build so a client can trust it (NODE_EXTRA_CA_CERTS).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const emu = await D1Emulator.start({ port });
const s = seedScenario(emu);
const caFile = join(process.cwd(), '.build', 'emulator-ca.pem');
writeFileSync(caFile, emu.caPem);
for (const [name, server] of [[emu.host, emu.server], [emu.clientAuthHost, emu.clientAuthServer]] as const) {
  server.on('request', (req) => console.log(`${new Date().toISOString()} ${name} ${req.method} ${req.url}`));
}
console.log(`DigiCert ONE emulator on https://${emu.host}
CA certificate: ${caFile}  (export NODE_EXTRA_CA_CERTS=${caFile})

bootstrap service user ${s.bootstrap.user.id}  x-api-key: ${s.bootstrap.apiKey}
target service user    ${s.signer.id}
administrator          ${s.admin.user.id}  x-api-key: ${s.admin.apiKey}
mutual TLS             https://${emu.clientAuthHost} (same port; client certificates from the emulator's client CA)

try: curl --cacert ${caFile} -H "x-api-key: ${s.bootstrap.apiKey}" https://${emu.host}/account/api/v1/user/me`);
process.on('SIGINT', () => void emu.close().then(() => process.exit(0)));
