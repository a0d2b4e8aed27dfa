/**
 * `npm run bench:load [-- --runs 1000 --rate 50]`: many jobs at once (main then post each) against the emulator
 * limited to N requests per second per API key, answering 429 with Retry-After past it. Reports whether every
 * token was minted and revoked, what is live at the end, total and p95 time, requests per job and refusals (429)
 * per job, with targets: every credential minted, revoked and none live; the whole run within 1.2x the minimum
 * (every request once, at the limit: 2 x runs / rate seconds); at most one refusal per job on average. Exits 1 when
 * a target is missed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const runs = arg('runs', 200);
const rate = arg('rate', 50);
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

const emu = await D1Emulator.start({ rateLimitPerSecond: rate });
const s = seedScenario(emu);
const dir = mkdtempSync(join(tmpdir(), 'd1-load-'));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, emu.caPem);
// fileURLToPath, not URL.pathname: on Windows the latter is `/C:/…`, which no API opens.
const worker = fileURLToPath(new URL('./load-worker.js', import.meta.url));

console.log(`load: ${runs} jobs at once, main then post each, against the emulator limited to ${rate} requests/s (429 + Retry-After: 1 past it); Node ${process.version}`);
const started = performance.now();
const stdout = await new Promise<string>((resolve, reject) => {
  // The CA goes to each job as its tls-ca-certificates input (the action does not read NODE_EXTRA_CA_CERTS).
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [worker, emu.host, s.bootstrap.apiKey, s.signer.id, String(runs), caFile], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.on('error', reject);
  child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`worker exited ${code}`))));
});
const wallMs = performance.now() - started;
const reports = JSON.parse(stdout) as { ok: boolean; outcome: string; mainMs: number; postMs: number; tokenId: string; warnings: string[]; error?: string }[];

const minted = reports.filter((r) => r.tokenId).length;
const revoked = reports.filter((r) => r.ok).length;
const live = emu.model.liveTokens().filter((t) => t.name.startsWith('gha_')).length;
const reqs = emu.requests;
const per = reqs.length / runs;
const by = (st: number) => reqs.filter((r) => r.status === st).length;
const jobMs = reports.map((r) => r.mainMs + r.postMs);
const minimumMs = ((2 * runs) / rate) * 1000;
const refusedPerJob = by(429) / runs;
// The first wave: every job's first request comes at once, and all but the limit are refused whatever the client does.
const first = reqs.length ? Math.min(...reqs.map((r) => r.at)) : 0;
const firstWave = reqs.filter((r) => r.status === 429 && r.at - first < 1000).length;
console.log(`minted ${minted}/${runs}, revoked ${revoked}/${runs}, live credentials at the end: ${live}`);
console.log(`requests: ${reqs.length} in all, ${per.toFixed(2)} per job (${by(201)} created, ${by(204)} deleted, ${by(200)} reads, ${by(429)} answered 429: ${refusedPerJob.toFixed(2)} per job, ${firstWave} of them in the first second)`);
// Capacity left unused: calendar seconds (the emulator's windows) between the first and the last success with fewer
// than `rate` successes, and what they lacked; a refusal policy that leaves jobs waiting while the server idles shows here.
const okAt = reqs.filter((r) => r.status < 400).map((r) => Math.floor(r.at / 1000));
const perSecond = new Map<number, number>();
for (const sec of okAt) perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
let unused = 0;
let lowSeconds = 0;
for (let sec = Math.min(...okAt); sec <= Math.max(...okAt); sec++) {
  const n = perSecond.get(sec) ?? 0;
  if (n < rate) {
    lowSeconds++;
    unused += rate - n;
  }
}
const sinceStart = (at: number) => `${((at - performance.timeOrigin - started) / 1000).toFixed(1)} s`;
const okTimes = reqs.filter((r) => r.status < 400).map((r) => r.at);
console.log(
  `capacity: first request ${sinceStart(first)} after the start, first success ${sinceStart(Math.min(...okTimes))}, last ${sinceStart(Math.max(...okTimes))}; ${lowSeconds} calendar seconds between them below the limit, ${unused} requests' worth unused`,
);
const drainMs = Math.max(...okTimes) - first;
console.log(`  from the first request to the last success: ${(drainMs / 1000).toFixed(1)} s, ${(drainMs / minimumMs).toFixed(2)}x the minimum (what the wall time adds to it is start-up: the worker, and ${runs} TLS handshakes at once on this machine)`);
console.log(`time: ${(wallMs / 1000).toFixed(1)} s in all, ${(wallMs / minimumMs).toFixed(2)}x the minimum ${(minimumMs / 1000).toFixed(1)} s (${2 * runs} requests at ${rate}/s); per job (main+post) p50 ${(pct(jobMs, 50) / 1000).toFixed(2)} s, p95 ${(pct(jobMs, 95) / 1000).toFixed(2)} s, max ${(Math.max(...jobMs) / 1000).toFixed(2)} s`);
const failures = reports.filter((r) => !r.ok);
for (const f of failures.slice(0, 5)) console.log(`  failed: ${f.outcome} ${f.error ?? f.warnings.join(' | ')}`);
await emu.close();
rmSync(dir, { recursive: true, force: true });
const targets: [string, boolean][] = [
  [`every job minted and revoked its token, none left live (${minted}/${revoked}/${live})`, minted === runs && revoked === runs && live === 0],
  [`wall time ≤ 1.2x the minimum (${(wallMs / minimumMs).toFixed(2)}x)`, wallMs <= 1.2 * minimumMs],
  [`at most 1 refused (429) request per job on average (${refusedPerJob.toFixed(2)})`, refusedPerJob <= 1],
];
console.log('targets:');
for (const [what, ok] of targets) console.log(`  ${ok ? 'PASS' : 'MISS'}  ${what}`);
process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1;
