/**
 * `npm run demo -- --broker`: the bundled action, main then post through the runner model, authenticating through the
 * bundled broker (dist/broker/index.js) with the job's OIDC token, against the emulator. The job is given no DigiCert
 * ONE secret; the demo checks that none is in its inputs, its steps' environment, or anything the runner keeps.
 * `-- --broker --replicas N`: N brokers on one throw-away PostgreSQL ledger (scripts/pg-test-cluster.sh) behind a
 * round-robin balancer, as docs/broker.md's replicated set-up; main's exchange and post's revoke land on different
 * replicas, and the revoke must still find what the other replica minted.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BrokerReplicas } from '../harness/broker-replicas.js';
import { projectRoot } from '../harness/runner.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';
import { AUDIENCE, BrokerWorld } from '../harness/broker-world.js';
import { scanJob } from '../harness/leaks.js';
import { statusWith } from '../harness/later-step.js';
import { inputEnvName } from '../harness/action-definition.js';
import { RunnerJob, type StepResult } from '../harness/runner.js';
import { SECRET_INPUTS } from '../src/runner/inputs.js';

const c = process.stdout.isTTY ? { dim: '\x1b[2m', bold: '\x1b[1m', green: '\x1b[32m', red: '\x1b[31m', off: '\x1b[0m' } : { dim: '', bold: '', green: '', red: '', off: '' };
const mark = (good: boolean, text: string | number): string => `${good ? c.green : c.red}${text}${c.off}`;

function show(title: string, lines: string[]): void {
  console.log(`\n${c.bold}▶ ${title}${c.off}`);
  for (const l of lines) console.log(`  ${c.dim}│${c.off} ${l}`);
}

/** N bundled brokers on a throw-away PostgreSQL, behind a round-robin balancer; `url` is the balancer's. */
async function replicatedWorld(n: number): Promise<{ w: BrokerWorld; url: string; describe: () => string; close: () => Promise<void> }> {
  const script = join(projectRoot(), 'scripts', 'pg-test-cluster.sh');
  const env = { ...process.env, PG_TEST_CLUSTER: 'demo' };
  const database = execFileSync(script, ['start'], { env, encoding: 'utf8' }).trim();
  let r: BrokerReplicas | undefined;
  let lb: TcpBalancer | undefined;
  const close = async () => {
    await lb?.close();
    await r?.close();
    execFileSync(script, ['stop'], { env });
  };
  try {
    r = await BrokerReplicas.start(database, n, { process: true });
    lb = await TcpBalancer.start(r.replicas.map((x) => Number(new URL(x.url).port)));
  } catch (err) {
    await close();
    throw err;
  }
  const { w, replicas } = r;
  const served = lb.served;
  console.log(`${c.bold}${n} broker replicas${c.off} (dist/broker/index.js) on one PostgreSQL ledger (${database.replace(/\/\/[^@]*@/, '//')}): ${replicas.map((x) => x.url).join(', ')}, behind a round-robin balancer`);
  return { w, url: `https://localhost:${lb.port}`, close, describe: () => served.map((k, i) => `replica ${i}: ${k}`).join(', ') };
}

export async function brokerDemo(replicas?: number): Promise<boolean> {
  const started = performance.now();
  const set = replicas ? await replicatedWorld(replicas) : undefined;
  const w = set?.w ?? (await BrokerWorld.start({ process: true }));
  const url = set?.url ?? w.url;
  const bootstrapKey = w.s.bootstrap.apiKey;
  console.log(`${c.bold}DigiCert ONE emulator${c.off} on https://${w.emu.host}; ${c.bold}the broker${c.off} (dist/broker/index.js) on ${url}, holding the bootstrap API token of ${w.s.bootstrap.user.friendly_name}`);
  console.log(`GitHub's OIDC issuer stand-in: ${w.issuer.issuer} (keys made for this run)`);
  console.log(`broker policy 'release': repository_id 123456789, repository_owner_id 987654, ref refs/heads/main or refs/tags/v*, event push or workflow_dispatch → an API token for ${w.s.signer.friendly_name}`);
  const inputs = { 'broker-url': url, 'broker-policy': 'release', 'broker-audience': AUDIENCE };
  console.log(`\nworkflow job:\n  permissions:\n    id-token: write\n  steps:\n    - uses: org/d1-token-action@v1\n      id: d1\n      with:\n        broker-url: ${url}\n        broker-policy: release\n        broker-audience: ${AUDIENCE}`);
  const job = new RunnerJob({ inputs, caPem: w.caPem, permissions: { 'id-token': 'write' }, idTokenService: w.issuer });
  let ok = false;
  try {
    const main = await job.main();
    show(`Run org/d1-token-action@v1 (main, exit ${main.exitCode}, ${main.wallMs.toFixed(0)} ms)`, main.log);
    const token = main.outputs.token ?? '';
    const live = await statusWith(w.emu, token);
    console.log(`\n  a later step calls GET /account/api/v1/user/me with steps.d1.outputs.token → ${mark(live === 200, live)}`);
    const post = await job.post();
    show(`Post Run org/d1-token-action@v1 (post, exit ${post.exitCode}, ${post.wallMs.toFixed(0)} ms)`, post.log);
    const dead = await statusWith(w.emu, token);
    console.log(`\n  the same call after the post step → ${mark(dead === 401, dead)} (revoked through the broker)`);

    // What the job held: its inputs and each step's whole environment. No DigiCert ONE secret, no variable for one.
    const held = (s: StepResult) => Object.entries(s.processEnv);
    const secretInputs = new Set(SECRET_INPUTS.map((n) => inputEnvName(n)));
    const secretsHeld = [...Object.entries(job.inputs), ...job.steps.flatMap(held)].filter(([k, v]) => v.includes(bootstrapKey) || ((SECRET_INPUTS as readonly string[]).includes(k) || secretInputs.has(k)) && v !== '');
    console.log(`  DigiCert ONE secrets in the job's inputs and its steps' environment: ${mark(secretsHeld.length === 0, secretsHeld.length === 0 ? 'none' : secretsHeld.map(([k]) => k).join(', '))} (it had ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, from id-token: write)`);
    const leaks = scanJob(job, { bootstrap: bootstrapKey, minted: token }, { allowInOutput: { token: 'minted' } });
    console.log(`  leak scan of log, stderr, GITHUB_STATE/ENV/OUTPUT (token output aside), summary, RUNNER_TEMP: ${mark(leaks.length === 0, leaks.length === 0 ? 'clean' : JSON.stringify(leaks))}`);
    const audit = w.auditText();
    const auditClean = !audit.includes(token) && !audit.includes(bootstrapKey);
    console.log(`  the broker's audit log: ${w.audit().map((e) => `${e.event}${e.outcome ? ` ${e.outcome}` : ''}`).join(', ')}; secrets in it: ${mark(auditClean, auditClean ? 'none' : 'FOUND')}`);
    const liveLeft = w.emu.model.liveTokens().filter((t) => t.name === main.outputs['token-name']).length;
    console.log(`  live tokens minted by this run: ${mark(liveLeft === 0, liveLeft)}`);
    // Replicated: main's exchange and post's revoke went through the balancer to two different replicas.
    const spread = !set || set.describe().split(', ').filter((x) => !x.endsWith(': 0')).length >= 2;
    if (set) console.log(`  connections the balancer gave each replica: ${mark(spread, set.describe())} (main's exchange on one, post's revoke on another)`);
    ok = main.outcome === 'success' && post.outcome === 'success' && live === 200 && dead === 401 && secretsHeld.length === 0 && leaks.length === 0 && auditClean && liveLeft === 0 && spread;
  } finally {
    job.cleanup();
    await (set ? set.close() : w.close());
  }
  console.log(`\n${ok ? `${c.green}demo passed` : `${c.red}demo FAILED`}${c.off} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}
