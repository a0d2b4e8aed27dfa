/**
 * `npm run broker:replicas [-- N]`: the replicated set-up on this machine, without Docker: a throw-away PostgreSQL
 * (scripts/pg-test-cluster.sh), N brokers (default 2, the bundle dist/broker/index.js, as the container runs it) on
 * that one ledger, the DigiCert ONE emulator and GitHub's OIDC issuer stand-in. It prints each broker's URL and how to
 * exchange a token, and runs until Ctrl-C (which stops everything, the database too).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerReplicas } from '../harness/broker-replicas.js';
import { AUDIENCE, DEFAULT_JOB } from '../harness/broker-world.js';
import { jobClaims } from '../harness/oidc-issuer.js';
import { projectRoot } from '../harness/runner.js';

const n = Number(process.argv[2] ?? 2);
if (!Number.isInteger(n) || n < 1 || n > 8) {
  console.error('usage: npm run broker:replicas [-- N]   (N brokers, 1 to 8; default 2)');
  process.exit(2);
}
const script = join(projectRoot(), 'scripts', 'pg-test-cluster.sh');
const env = { ...process.env, PG_TEST_CLUSTER: 'replicas' };
const url = execFileSync(script, ['start'], { env, encoding: 'utf8' }).trim();
const r = await BrokerReplicas.start(url, n, { process: true, config: { sweepIntervalSeconds: 30, heartbeatSeconds: 5 } });
const ca = join(r.w.dir, 'ca.pem');
writeFileSync(ca, r.w.caPem);
const job = r.w.issuer.registerJob({ ...jobClaims({ ...DEFAULT_JOB, run_id: '1' }) });
console.log(`${n} d1-token-broker replicas on one PostgreSQL ledger (${url.replace(/\/\/[^@]*@/, '//')}):
${r.replicas.map((x, i) => `  replica ${i}: ${x.url}  (/healthz, /readyz, /metrics)`).join('\n')}
  against the DigiCert ONE emulator on https://${r.w.emu.host}; GitHub's OIDC issuer stand-in: ${r.w.issuer.issuer}
  config, policy, TLS, audit log: ${r.w.dir}; CA of all: ${ca}

A job of ${DEFAULT_JOB.repository} (run 1):
  export ACTIONS_ID_TOKEN_REQUEST_URL='${job.url}'
  export ACTIONS_ID_TOKEN_REQUEST_TOKEN='${job.token}'
  JWT=$(curl -s --cacert ${ca} -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${encodeURIComponent(AUDIENCE)}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).value')
  curl -s --cacert ${ca} -H "Authorization: Bearer $JWT" -H 'content-type: application/json' -d '{"policy":"release","lease":"my-first-lease-0001"}' ${r.replicas[0]!.url}/v1/credentials
Ctrl-C stops everything.`);
const stop = (): void =>
  void r
    .close()
    .finally(() => execFileSync(script, ['stop'], { env }))
    .then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
