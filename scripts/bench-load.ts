/**
 * `npm run bench:load [-- --runs 200 --rate 50]`: many jobs at once (main then post each) against the emulator
 * limited to N requests per second per API key, answering 429 with Retry-After past it. Reports whether every
 * token was minted and revoked, what is live at the end, total and p95 time, and requests per job.
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
  const child = spawn(process.execPath, [worker, emu.host, s.bootstrap.apiKey, s.signer.id, String(runs)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
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
console.log(`minted ${minted}/${runs}, revoked ${revoked}/${runs}, live credentials at the end: ${live}`);
console.log(`requests: ${reqs.length} in all, ${per.toFixed(2)} per job (${by(201)} created, ${by(204)} deleted, ${by(200)} reads, ${by(429)} answered 429)`);
console.log(`time: ${(wallMs / 1000).toFixed(1)} s in all; per job (main+post) p50 ${(pct(jobMs, 50) / 1000).toFixed(2)} s, p95 ${(pct(jobMs, 95) / 1000).toFixed(2)} s, max ${(Math.max(...jobMs) / 1000).toFixed(2)} s`);
const failures = reports.filter((r) => !r.ok);
for (const f of failures.slice(0, 5)) console.log(`  failed: ${f.outcome} ${f.error ?? f.warnings.join(' | ')}`);
await emu.close();
rmSync(dir, { recursive: true, force: true });
const pass = minted === runs && revoked === runs && live === 0;
console.log(pass ? 'PASS: every job minted and revoked its token; none left live' : 'FAIL');
process.exitCode = pass ? 0 : 1;
