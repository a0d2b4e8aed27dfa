/**
 * `npm run bench:broker [-- --jobs 1000 --rate 50]`: jobs through the broker (mint, then revoke: two DigiCert ONE
 * requests each, with the bootstrap key) with 1 and then 3 replicas on one PostgreSQL (a throw-away cluster), against
 * the emulator limited to `rate` requests/s for that key (429 past it). The replicas share one pace
 * (digicertPace: a schedule in the ledger) of rate - 4 requests/s with a burst of 2, so no second holds more than
 * `rate` even with a late arrival or two. Reports refusals by DigiCert ONE, wall time against the minimum (2 x jobs / rate), credentials live at the
 * end, the memory of each replica, and the broker's exchange latency (mint round trip, the emulator unlimited) p50/p99
 * at 50 and 200 exchanges/s. Targets: 0 refusals, wall <= 1.1x minimum, 0 live; exits 1 on a miss. The last line:
 * `refused by DigiCert ONE: N, wall: X.XXx minimum, live at the end: N` (the worse of the runs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BrokerReplicas } from '../harness/broker-replicas.js';
import { projectRoot } from '../harness/runner.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const jobs = arg('jobs', 1000);
const rate = arg('rate', 50);
const concurrency = arg('concurrency', 200);
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
const script = join(projectRoot(), 'scripts', 'pg-test-cluster.sh');
const env = { ...process.env, PG_TEST_CLUSTER: 'bench' };
const admin = execFileSync(script, ['start'], { env, encoding: 'utf8' }).trim();

async function database(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Peak resident memory of a process, MB (Linux /proc). */
const peakMb = (pid: number | undefined): number => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

/** Runs `count` tasks, at most `limit` at a time. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

interface Result { replicas: number; refused: number; ratio: number; live: number; failed: number; memory: number[] }

async function throughput(replicas: number): Promise<Result> {
  const url = await database(`bench_${replicas}`);
  // Slots are kept to the millisecond, but requests arrive with the jitter of a loaded machine, and the emulator counts
  // per calendar second: a pace of rate - 4 with a burst of 2 leaves room for two late arrivals in any second.
  const burst = 2;
  const r = await BrokerReplicas.start(url, replicas, { process: true, config: { timeoutSeconds: 300, sweepIntervalSeconds: 0, rateLimit: { perMinute: 100_000, burst: 100_000 }, digicertPace: { perSecond: rate - 4, burst } } });
  r.w.emu.rateLimitPerSecond = rate;
  let failed = 0;
  const started = performance.now();
  await pool(jobs, concurrency, async (i) => {
    const runId = String(50_000_000 + replicas * 1_000_000 + i);
    const m = await r.mint(i % replicas, r.w.token({ run_id: runId }));
    if (m.status !== 201) {
      failed++;
      return;
    }
    const v = await r.call((i + 1) % replicas, 'POST', '/v1/revoke', r.w.token({ run_id: runId }), { leases: [m.body.lease] });
    if ((v.body.revoked as { outcome: string }[] | undefined)?.[0]?.outcome !== 'revoked') failed++;
  });
  const wall = (performance.now() - started) / 1000;
  const minimum = (2 * jobs) / rate;
  const refused = r.w.emu.requests.filter((q) => q.status === 429).length;
  const live = [...r.w.emu.model.tokens.values()].filter((t) => !t.deleted && t.name.startsWith('gha_')).length;
  const memory = r.replicas.map((x, i) => peakMb(i === 0 ? (r.w as unknown as { child?: { pid?: number } }).child?.pid : x.child?.pid));
  console.log(`${replicas} replica${replicas > 1 ? 's' : ''}: ${jobs} jobs, ${failed} failed; refused by DigiCert ONE: ${refused}; wall ${wall.toFixed(1)} s, minimum ${minimum.toFixed(1)} s (${(wall / minimum).toFixed(2)}x); live at the end: ${live}; peak memory per replica: ${memory.map((mb) => `${mb.toFixed(0)} MB`).join(', ')}`);
  await r.close();
  return { replicas, refused, ratio: wall / minimum, live, failed, memory };
}

async function latency(perSecond: number): Promise<void> {
  const url = await database(`bench_latency_${perSecond}`);
  const r = await BrokerReplicas.start(url, 1, { process: true, config: { timeoutSeconds: 60, sweepIntervalSeconds: 0, rateLimit: { perMinute: 100_000, burst: 100_000 } } });
  const seconds = 5;
  const times: number[] = [];
  const all: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const token = r.w.token({ run_id: String(70_000_000 + perSecond * 10_000 + i) });
    all.push(
      (async () => {
        const s = performance.now();
        const m = await r.mint(0, token);
        if (m.status === 201) times.push(performance.now() - s);
      })(),
    );
  }
  await Promise.all(all);
  console.log(`exchange latency at ${perSecond}/s (1 replica, the emulator unlimited, ${times.length} mints): p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms`);
  await r.close();
}

console.log(`bench:broker: ${jobs} jobs (mint then revoke), ${concurrency} at a time, against the emulator limited to ${rate} requests/s; Node ${process.version}`);
const results: Result[] = [];
try {
  for (const n of [1, 3]) results.push(await throughput(n));
  await latency(50);
  await latency(200);
} finally {
  execFileSync(script, ['stop'], { env });
}
const refused = Math.max(...results.map((x) => x.refused));
const ratio = Math.max(...results.map((x) => x.ratio));
const live = Math.max(...results.map((x) => x.live));
const failed = results.reduce((a, x) => a + x.failed, 0);
if (failed) console.log(`jobs that did not get and revoke their credential: ${failed}`);
console.log(`refused by DigiCert ONE: ${refused}, wall: ${ratio.toFixed(2)}x minimum, live at the end: ${live}`);
process.exit(refused === 0 && ratio <= 1.1 && live === 0 && failed === 0 ? 0 : 1);
