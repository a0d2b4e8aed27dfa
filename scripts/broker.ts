/**
 * `npm run broker -- --config broker.json`: the broker bundle (dist/broker/index.js), as the container runs it.
 * `npm run broker -- --emulator`: the same bundle against the DigiCert ONE emulator, with an OIDC issuer stand-in in
 * place of GitHub's and a policy for the runner model's default repository, all made for this run; it prints how to
 * get a job's OIDC token and exchange it, and runs until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIENCE, BROKER_ENTRY, BrokerWorld, DEFAULT_JOB } from '../harness/broker-world.js';
import { jobClaims } from '../harness/oidc-issuer.js';

if (!process.argv.includes('--emulator')) {
  const child = spawn(process.execPath, [BROKER_ENTRY, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  const w = await BrokerWorld.start({ process: true });
  const ca = join(w.dir, 'ca.pem');
  writeFileSync(ca, w.caPem);
  const job = w.issuer.registerJob({ ...jobClaims({ ...DEFAULT_JOB, run_id: '1' }) });
  console.log(`d1-token-broker (${BROKER_ENTRY}) on ${w.url}, audience ${AUDIENCE}
  against the DigiCert ONE emulator on https://${w.emu.host}; GitHub's OIDC issuer stand-in: ${w.issuer.issuer}
  its files (config, policy, TLS, ledger, audit log): ${w.dir}
  CA of all three: ${ca}

A job of ${DEFAULT_JOB.repository} (run 1) with id-token: write has:
  export ACTIONS_ID_TOKEN_REQUEST_URL='${job.url}'
  export ACTIONS_ID_TOKEN_REQUEST_TOKEN='${job.token}'
Its OIDC token, then a credential for policy 'release':
  JWT=$(curl -s --cacert ${ca} -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${encodeURIComponent(AUDIENCE)}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).value')
  curl -s --cacert ${ca} -H "Authorization: Bearer $JWT" -H 'content-type: application/json' -d '{"policy":"release","lease":"my-first-lease-0001"}' ${w.url}/v1/credentials
The action does the same with: broker-url: ${w.url}, broker-policy: release, broker-audience: ${AUDIENCE} (NODE_EXTRA_CA_CERTS=${ca}).
Ctrl-C stops all three.`);
  const stop = (): void => void w.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
