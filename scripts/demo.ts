/**
 * `npm run demo`: the bundled action, main step then post step, run the way the runner runs it against a
 * local DigiCert ONE emulator; prints what a user sees in the job log and proves the token's life cycle.
 * `npm run demo -- --mtls`: the same with a client authentication certificate (a PKCS#12 made for this run);
 * `npm run demo -- --scope`: with an ephemeral service user holding only Software Trust's Signer role
 * as the bootstrap credential, on the emulator's clientauth. name.
 * `npm run demo -- --sign`: signing as the long-lived signer service user the keypair is assigned to, both of its
 * factors made for the job (service-user-id + client-certificate-for-job + keypair-alias + export-env): main checks
 * the keypair with both; a later step signs the SHA-256 digest of a real file (dist/index.js) through Software Trust
 * on the clientauth. name, OpenSSL verifies the signature with the keypair's certificate, and after post the same
 * signing request is refused.
 * `npm run demo -- --broker`: no DigiCert ONE secret in the job: it authenticates through the broker with its OIDC
 * token (scripts/demo-broker.ts).
 * Options are parsed strictly (scripts/demo-args.ts): an unknown one prints the usage and exits 2.
 */
import { readFileSync } from 'node:fs';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';
import { toP12Base64 } from '../emulator/pki.js';
import { createHash } from 'node:crypto';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';
import { DIST_BUNDLE, RunnerJob } from '../harness/runner.js';
import { scanJob } from '../harness/leaks.js';
import { opensslVerify, signDigest, softwareTrustStatus, statusWith as status } from '../harness/later-step.js';
import { INPUTS } from '../src/runner/input-modes.js';
import { parseDemoArgs, DEMO_USAGE } from './demo-args.js';

const c = process.stdout.isTTY ? { dim: '\x1b[2m', bold: '\x1b[1m', green: '\x1b[32m', red: '\x1b[31m', off: '\x1b[0m' } : { dim: '', bold: '', green: '', red: '', off: '' };

function show(title: string, lines: string[]): void {
  console.log(`\n${c.bold}▶ ${title}${c.off}`);
  for (const l of lines) console.log(`  ${c.dim}│${c.off} ${l}`);
}

let args: ReturnType<typeof parseDemoArgs>;
try {
  args = parseDemoArgs(process.argv.slice(2));
} catch (err) {
  // A usage error (a misspelt --brokr must not run another demo): exit 2, the reason, then how to call it.
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n\n${DEMO_USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(DEMO_USAGE);
  process.exit(0);
}
if (args.mode === 'broker') process.exit((await (await import('./demo-broker.js')).brokerDemo(args.replicas)) ? 0 : 1);

const started = performance.now();
const emu = await D1Emulator.start();
const s = seedScenario(emu);
console.log(`${c.bold}DigiCert ONE emulator${c.off} on https://${emu.host} (CA generated for this run)`);
console.log(`  bootstrap service user: ${s.bootstrap.user.friendly_name} (${s.bootstrap.user.id})`);
console.log(`  target service user:    ${s.signer.friendly_name} (${s.signer.id})`);
const mtls = args.mode === 'mtls';
const sign = args.mode === 'sign';
const scoped = args.mode === 'scope';
let inputs: Record<string, string>;
let secrets: Record<string, string>;
if (mtls) {
  // What Account Manager hands out: a PKCS#12 file (AES) and a password shown once; the secret holds it in base64.
  const password = 'demo-p12-password-shown-once';
  const p12 = toP12Base64(emu.issueClientCert(s.bootstrap.user.id), password);
  inputs = { 'client-certificate': p12, 'client-certificate-password': password, host: emu.host, 'service-user-id': s.signer.id };
  secrets = { p12, password };
  console.log(`  client certificate:     issued to ${s.bootstrap.user.friendly_name} by the emulator's client CA (PKCS#12, AES, ${p12.length} base64 characters)`);
  console.log(`\nworkflow step:\n  - uses: org/d1-token-action@v1\n    id: d1\n    with:\n      client-certificate: \${{ secrets.D1_CLIENT_P12_BASE64 }}\n      client-certificate-password: \${{ secrets.D1_CLIENT_P12_PASSWORD }}\n      host: ${emu.host}\n      service-user-id: ${s.signer.id}`);
} else if (sign) {
  inputs = { 'api-key': s.bootstrap.apiKey, host: emu.host, 'service-user-id': s.signer.id, 'client-certificate-for-job': 'true', 'keypair-alias': KEYPAIR_ALIAS, 'export-env': 'true' };
  secrets = { bootstrap: s.bootstrap.apiKey };
  console.log(`  keypair:                '${KEYPAIR_ALIAS}' (${s.keypair.id}), RSA ${s.keypair.keySize}, assigned to ${s.signer.friendly_name}`);
  console.log(`\nworkflow step:\n  - uses: org/d1-token-action@v1\n    id: d1\n    with:\n      api-key: \${{ secrets.D1_BOOTSTRAP_TOKEN }}\n      host: ${emu.host}\n      service-user-id: ${s.signer.id}\n      client-certificate-for-job: true\n      keypair-alias: ${KEYPAIR_ALIAS}\n      export-env: true`);
} else if (scoped) {
  inputs = { 'api-key': s.bootstrap.apiKey, host: emu.host, scope: 'Software Trust: Signer' };
  secrets = { bootstrap: s.bootstrap.apiKey };
  console.log(`\nworkflow step:\n  - uses: org/d1-token-action@v1\n    id: d1\n    with:\n      api-key: \${{ secrets.D1_BOOTSTRAP_TOKEN }}\n      host: ${emu.host}\n      scope: |\n        Software Trust: Signer`);
} else {
  inputs = { 'api-key': s.bootstrap.apiKey, host: emu.host, 'service-user-id': s.signer.id };
  secrets = { bootstrap: s.bootstrap.apiKey };
  console.log(`\nworkflow step:\n  - uses: org/d1-token-action@v1\n    id: d1\n    with:\n      api-key: \${{ secrets.D1_BOOTSTRAP_TOKEN }}\n      host: ${emu.host}\n      service-user-id: ${s.signer.id}`);
}

const job = new RunnerJob({ inputs, caPem: emu.caPem });
// Only what action.yml declares as a default is called one; the emulator's CA is the demo's own addition.
const defaulted = Object.keys(job.inputs).filter((k) => !(k in inputs) && INPUTS[k]?.default !== '' && job.inputs[k] === INPUTS[k]?.default);
console.log(`\nthe runner model adds action.yml's defaults, as GitHub's runner does: ${defaulted.map((k) => `${k}='${job.inputs[k]}'`).join(', ')}`);
if (job.inputs['tls-ca-certificates'] && !inputs['tls-ca-certificates']) console.log("and the demo gives tls-ca-certificates the emulator's CA certificate (a real job trusts DigiCert ONE's public certificate without it)");
let ok = true;
try {
  let seen = emu.requests.length;
  const main = await job.main();
  show(`Run org/d1-token-action@v1 (main, exit ${main.exitCode}, ${main.wallMs.toFixed(0)} ms, ${emu.requests.length - seen} request${emu.requests.length - seen === 1 ? '' : 's'})`, main.log);
  const seenByEmulator = (from: number) =>
    emu.requests.slice(from).map((r) => `${r.method} ${r.path} → ${r.status}  SNI ${r.servername}, x-api-key ${r.hadApiKey ? 'sent' : 'absent'}, caller ${r.clientCertUser ? `client certificate of ${r.clientCertUser}` : `API token ${r.tokenId}`}`);
  const mainSeen = seenByEmulator(seen);
  console.log(`\n  the emulator saw: ${mainSeen.join('\n                    ')}`);
  const token = main.outputs.token ?? '';
  // A secret shows as *** only when there is one: an empty output is shown empty.
  console.log(`\n  outputs: ${Object.entries(main.outputs).map(([k, v]) => `${k}=${v !== '' && (v === token || k === 'job-certificate-password') ? '***' : v}`).join('  ')}`);
  console.log(`  saved state for post: ${Object.keys(main.state).join(', ')} (no secret)`);
  const live = await status(emu, token);
  console.log(`  a later step calls GET /account/api/v1/user/me with steps.d1.outputs.token → ${live === 200 ? c.green : c.red}${live}${c.off}`);
  const password = main.outputs['job-certificate-password'] ?? '';
  const pfx = sign ? readFileSync(main.outputs['job-certificate-file']!) : Buffer.alloc(0);
  const signLive = sign ? await softwareTrustStatus(emu, token, pfx, password) : 200;
  // The file a later step signs: a real one (the bundled action), of which only the SHA-256 digest leaves the step.
  const digest = createHash('sha256').update(readFileSync(DIST_BUNDLE)).digest();
  const who = { apiKey: token, tls: { pfx, passphrase: password } };
  let verified = !sign;
  if (sign) {
    console.log(`  exported for smctl: ${Object.keys(main.env).join(', ')}`);
    console.log(`  a later step calls Software Trust (GET /signingmanager/api/v1/certificates on ${emu.clientAuthHost}) with SM_API_KEY and SM_CLIENT_CERT_FILE/PASSWORD → ${signLive === 200 ? c.green : c.red}${signLive}${c.off}`);
    const signed = await signDigest(emu, who, KEYPAIR_ALIAS, digest);
    console.log(`  it signs the SHA-256 of dist/index.js (${digest.toString('hex').slice(0, 16)}…) with keypair '${KEYPAIR_ALIAS}' (POST /signingmanager/api/v1/keypairs/${signed.keypairId}/sign, SHA256withRSA) → ${signed.status === 200 ? c.green : c.red}${signed.status}${c.off}`);
    if (signed.signature && signed.certificatePem) {
      const check = opensslVerify(signed.certificatePem, signed.signature, DIST_BUNDLE);
      verified = check.ok;
      console.log(`  openssl x509 -pubkey (the keypair's certificate) | openssl dgst -sha256 -verify … dist/index.js → ${check.ok ? c.green : c.red}${check.output}${c.off}`);
    }
  }

  seen = emu.requests.length;
  const post = await job.post();
  show(`Post Run org/d1-token-action@v1 (post, exit ${post.exitCode}, ${post.wallMs.toFixed(0)} ms, ${emu.requests.length - seen} request)`, post.log);
  const postSeen = seenByEmulator(seen);
  console.log(`\n  the emulator saw: ${postSeen.join('\n                    ')}`);
  const dead = await status(emu, token);
  console.log(`\n  the same call after the post step → ${dead === 401 ? c.green : c.red}${dead}${c.off} (revoked)`);
  const signDead = sign ? await softwareTrustStatus(emu, token, pfx, password) : 401;
  const signAfter = sign ? (await signDigest(emu, who, KEYPAIR_ALIAS, digest)).status : 401;
  if (sign) {
    console.log(`  the Software Trust call with both factors after the post step → ${signDead !== 200 ? c.green : c.red}${signDead}${c.off}`);
    console.log(`  the same signing request after the post step → ${signAfter !== 200 ? c.green : c.red}${signAfter}${c.off} (refused)`);
  }

  const summary = job.steps.map((x) => x.summary).join('');
  show('Job summary', summary.trim().split('\n'));

  const leaks = scanJob(job, { ...secrets, minted: token, ...(sign ? { password } : {}) }, { allowInOutput: { token: 'minted', 'job-certificate-password': 'password' }, allowInEnv: sign ? ['minted', 'password'] : [] });
  const left = job.runnerTempFiles();
  console.log(`\nleak scan of log, stderr, GITHUB_STATE/ENV/OUTPUT (token output aside), summary, RUNNER_TEMP: ${leaks.length === 0 ? `${c.green}clean${c.off}` : `${c.red}${JSON.stringify(leaks)}${c.off}`}`);
  console.log(`files left in RUNNER_TEMP: ${left.length}; live tokens minted by this run: ${emu.model.liveTokens().filter((t) => t.name === main.outputs['token-name']).length}`);
  // With a certificate, both calls must have gone to the clientauth. name without x-api-key.
  const onClientAuth = [...mainSeen, ...postSeen].every((l) => l.includes('SNI clientauth.localhost, x-api-key absent'));
  ok = main.outcome === 'success' && post.outcome === 'success' && main.annotations.length === 0 && live === 200 && dead === 401 && leaks.length === 0 && left.length === 0 && (!mtls || onClientAuth) && signLive === 200 && signDead !== 200 && verified && signAfter !== 200 && (!sign || main.outputs['keypair-id'] === s.keypair.id);
} finally {
  job.cleanup();
  await emu.close();
}
console.log(`\n${ok ? `${c.green}demo passed` : `${c.red}demo FAILED`}${c.off} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = ok ? 0 : 1;
