/**
 * `npm run bench` (a benchmark, not a test: CI does not run it). On the Node that runs it (Node 24 from the `node`
 * dev dependency under npm scripts), times the bundled action's main and post steps through RunnerJob against an
 * in-process emulator, next to two floors run the same way (same runner harness, same inputs, same trust: Node's roots plus the
 * emulator CA as the tls-ca-certificates input, same single request per step):
 *   - dependency floor: bench/floor-deps.ts (@actions/core + undici), bundled with ncc like dist/, into .build/;
 *   - physical floor:   bench/floor-https.ts (node:https only), compiled by build:tools.
 * Warm-up, then ROUNDS rounds; within a round the six steps run in turn, the order of the three commands rotating
 * per round, so machine drift hits all alike. Reports medians, ratios, request counts, undici copies, dist/ sizes.
 *
 * BENCH_BASELINE=path/to/index.js adds an earlier bundle (e.g. `git show REV:dist/index.js` written out beside a
 * `{"type":"module"}` package.json) run the same way, to compare before and after a change.
 * BENCH_ROUNDS=n (default 30, at least 15), BENCH_PROFILE=1 adds a --cpu-prof run of main and post with the
 * top self-time functions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';
import { DIST_BUNDLE, RunnerJob, projectRoot, type StepResult } from '../harness/runner.js';

const started = performance.now();
const BUDGET_MS = 115_000;
const deadline = setTimeout(() => {
  console.error(`bench: over its ${BUDGET_MS / 1000} s budget, stopping`);
  process.exit(2);
}, BUDGET_MS);
deadline.unref();

const ROOT = projectRoot();
const ROUNDS = Math.max(15, Number(process.env.BENCH_ROUNDS) || 30);
const WARMUP = 2;
const BUILD = join(ROOT, '.build');

const fmtMs = (x: number) => `${x.toFixed(1)} ms`;
const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function buildDepFloor(): string {
  const out = join(BUILD, 'bench-floor-deps');
  rmSync(out, { recursive: true, force: true });
  const ncc = join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
  // The same ncc command as `npm run bundle`, entry and output aside.
  const r = spawnSync(process.execPath, [ncc, 'build', join(ROOT, 'bench', 'floor-deps.ts'), '-o', out, '--target', 'es2022', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ncc build of bench/floor-deps.ts failed:\n${r.stderr}${r.stdout}`);
  return join(out, 'index.js');
}

function undiciCopies(): { installed: string[]; inBundle: number } {
  const r = spawnSync('npm', ['ls', 'undici', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
  const installed = [...new Set(r.stdout.split('\n').filter((l) => l.trim()))].map((p) => relative(ROOT, p));
  const bundle = readFileSync(DIST_BUNDLE, 'utf8');
  // One class definition per bundled copy of undici.
  const inBundle = bundle.match(/class EnvHttpProxyAgent extends/g)?.length ?? 0;
  return { installed, inBundle };
}

function distFiles(): { file: string; bytes: number }[] {
  const dist = join(ROOT, 'dist');
  return readdirSync(dist, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dist, f)).isFile())
    .sort()
    .map((f) => ({ file: `dist/${f}`, bytes: statSync(join(dist, f)).size }));
}

/**
 * Self time of .cpuprofile files, averaged over the files: by place (the bundle, Node's built-ins, V8/native) and
 * the top functions.
 */
function summariseProfiles(files: string[], top = 10): string[] {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const agg = new Map<string, number>();
  const where = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    total += (p.endTime - p.startTime) / 1000;
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      const n = byId.get(id)!;
      const url = n.callFrame.url;
      const place = !url ? 'V8/native (compile, GC, program)' : url.includes('/dist/') || url.includes('bench-floor') ? 'the bundle' : url.startsWith('node:') ? 'node: built-ins' : 'other';
      where.set(place, (where.get(place) ?? 0) + us);
      const key = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
      agg.set(key, (agg.get(key) ?? 0) + us);
    });
  }
  const per = (us: number) => (us / 1000 / files.length).toFixed(1);
  const lines = [`${files.length} profiles, mean ${(total / files.length).toFixed(1)} ms profiled; self time by place: ${[...where].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${per(v)} ms`).join(', ')}`];
  for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${per(us).padStart(6)} ms  ${k}`);
  return lines;
}

interface Command {
  label: string;
  /** undefined: the action as action.yml starts it (dist/main.js, dist/post.js). */
  entry: string | undefined;
  main: number[];
  post: number[];
  mainRequests: number[];
  postRequests: number[];
}

console.log(`d1-token-action bench: node ${process.version} (${process.execPath.startsWith(ROOT) ? 'the node dev dependency' : process.execPath}), ${process.platform}/${process.arch}`);

const depFloor = buildDepFloor();
const httpsFloor = join(BUILD, 'bench', 'floor-https.js');
if (!existsSync(httpsFloor)) throw new Error(`${httpsFloor} is missing: run through \`npm run bench\` (it compiles bench/ first)`);
if (!existsSync(DIST_BUNDLE)) throw new Error('dist/index.js is missing: run `npm run bundle`');

const emu = await D1Emulator.start();
const s = seedScenario(emu);
const inputs = { 'api-key': s.bootstrap.apiKey, host: emu.host, 'service-user-id': s.signer.id };

const commands: Command[] = [
  { label: 'action (dist/main.js, dist/post.js)', entry: undefined, main: [], post: [], mainRequests: [], postRequests: [] },
  { label: 'dependency floor', entry: depFloor, main: [], post: [], mainRequests: [], postRequests: [] },
  { label: 'physical floor', entry: httpsFloor, main: [], post: [], mainRequests: [], postRequests: [] },
  ...(process.env.BENCH_BASELINE ? [{ label: `baseline (${relative(ROOT, process.env.BENCH_BASELINE)})`, entry: process.env.BENCH_BASELINE, main: [], post: [], mainRequests: [], postRequests: [] }] : []),
];

function check(step: StepResult, what: string, reqs: { method: string; status: number }[], want: string): void {
  const got = reqs.map((r) => `${r.method} ${r.status}`).join(', ');
  if (step.exitCode !== 0 || got !== want) {
    throw new Error(`${what}: exit ${step.exitCode}, requests [${got}], expected [${want}]\n${step.log.join('\n')}`);
  }
}

async function runJob(c: Command, record: boolean, nodeArgs: string[] = [], extra: Record<string, string> = inputs): Promise<void> {
  const job = new RunnerJob({ inputs: extra, caPem: emu.caPem, entry: c.entry, nodeArgs });
  try {
    let n = emu.requests.length;
    const main = await job.main();
    const mainReqs = emu.requests.slice(n);
    check(main, `${c.label} main`, mainReqs, 'POST 201');
    n = emu.requests.length;
    const post = await job.post();
    const postReqs = emu.requests.slice(n);
    check(post, `${c.label} post`, postReqs, 'DELETE 204');
    if (record) {
      c.main.push(main.wallMs);
      c.post.push(post.wallMs);
      c.mainRequests.push(mainReqs.length);
      c.postRequests.push(postReqs.length);
    }
  } finally {
    job.cleanup();
  }
}

let result = 0;
try {
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (let k = 0; k < commands.length; k++) await runJob(commands[(round + k) % commands.length]!, round >= WARMUP);
  }

  // Request count when the caller does not name the service user (`me`, an administrator's own token): not timed.
  let n = emu.requests.length;
  const meJob = new RunnerJob({ inputs: { 'api-key': s.admin.apiKey, host: emu.host, 'service-user-id': 'me' }, caPem: emu.caPem });
  const meMain = await meJob.main();
  const meMainReqs = emu.requests.slice(n).map((r) => `${r.method} ${r.status}`);
  n = emu.requests.length;
  await meJob.post();
  const mePostReqs = emu.requests.slice(n).length;
  meJob.cleanup();
  if (meMain.exitCode !== 0) throw new Error(`service-user-id: me failed:\n${meMain.log.join('\n')}`);

  const [action, dep, phys] = commands as [Command, Command, Command];
  console.log(`\n${ROUNDS} rounds after ${WARMUP} warm-up rounds; each round runs main+post of each command in turn (order rotating).`);
  console.log('wall time of one step, spawn to exit, through the runner harness:\n');
  console.log(`${'command'.padEnd(24)} ${'main median'.padStart(12)} ${'(p10–p90)'.padStart(18)} ${'post median'.padStart(12)} ${'(p10–p90)'.padStart(18)}`);
  for (const c of commands) {
    const range = (xs: number[]) => `${quantile(xs, 0.1).toFixed(0)}–${quantile(xs, 0.9).toFixed(0)} ms`;
    console.log(`${c.label.padEnd(24)} ${fmtMs(median(c.main)).padStart(12)} ${range(c.main).padStart(18)} ${fmtMs(median(c.post)).padStart(12)} ${range(c.post).padStart(18)}`);
  }
  const mainRatio = median(action.main) / median(dep.main);
  const postRatio = median(action.post) / median(dep.post);
  // The ratio of medians, and the median of per-round ratios (each round's action step vs the floor's, run close
  // together): the paired one is what the targets use, as it cancels load that shifts between rounds.
  const pairedMain = median(action.main.map((x, i) => x / dep.main[i]!));
  const pairedPost = median(action.post.map((x, i) => x / dep.post[i]!));
  console.log(`\naction / dependency floor, median of per-round ratios: main ${pairedMain.toFixed(3)}×, post ${pairedPost.toFixed(3)}×`);
  console.log(`action / dependency floor, ratio of medians:        main ${mainRatio.toFixed(3)}×, post ${postRatio.toFixed(3)}×`);
  console.log(`action / physical floor:   main ${(median(action.main) / median(phys.main)).toFixed(3)}×, post ${(median(action.post) / median(phys.post)).toFixed(3)}×`);
  console.log(`dependency floor / physical floor: main ${(median(dep.main) / median(phys.main)).toFixed(3)}×, post ${(median(dep.post) / median(phys.post)).toFixed(3)}×`);

  const mainReqs = Math.max(...action.mainRequests);
  const postReqs = Math.max(...action.postRequests);
  console.log(`\nrequests per step seen by the emulator: main ${mainReqs} (service-user-id named), ${meMainReqs.length} with service-user-id: me [${meMainReqs.join(', ')}]; post ${postReqs} (${mePostReqs} with me)`);

  const u = undiciCopies();
  console.log(`undici: npm ls finds ${u.installed.length} cop${u.installed.length === 1 ? 'y' : 'ies'} (${u.installed.join(', ')}); dist/index.js defines EnvHttpProxyAgent ${u.inBundle}×`);

  const files = distFiles();
  const total = files.reduce((a, f) => a + f.bytes, 0);
  const bundleScript = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.bundle ?? '';
  const minified = /(^|\s)(-m|--minify)(\s|$)/.test(bundleScript);
  console.log(`dist/ (${minified ? 'minified' : 'unminified'}: ${bundleScript}):`);
  for (const f of files) console.log(`  ${f.file.padEnd(22)} ${String(f.bytes).padStart(10)} B  ${kb(f.bytes).padStart(10)}`);
  console.log(`  ${'total'.padEnd(22)} ${String(total).padStart(10)} B  ${kb(total).padStart(10)}`);

  const targets: [string, boolean][] = [
    [`main ≤ 1.15× dependency floor (paired ${pairedMain.toFixed(3)}×; ratio of medians ${mainRatio.toFixed(3)}×)`, pairedMain <= 1.15],
    [`post ≤ 1.15× dependency floor (paired ${pairedPost.toFixed(3)}×; ratio of medians ${postRatio.toFixed(3)}×)`, pairedPost <= 1.15],
    [`main ≤ 2 requests, 1 when the service user is named (${meMainReqs.length} / ${mainReqs})`, meMainReqs.length <= 2 && mainReqs === 1],
    [`post 1 request (${postReqs})`, postReqs === 1],
    [`one undici copy (${u.installed.length} installed, ${u.inBundle} in the bundle)`, u.installed.length === 1 && u.inBundle === 1],
    [`dist/ ≤ 1.4 MB in all, unminified (${kb(total)}, ${minified ? 'minified' : 'unminified'})`, total <= 1_400_000 && !minified],
  ];
  console.log('\ntargets:');
  for (const [what, ok] of targets) console.log(`  ${verdict(ok)}  ${what}`);

  if (process.env.BENCH_PROFILE) {
    const dir = join(BUILD, 'profiles');
    rmSync(dir, { recursive: true, force: true });
    for (const c of [action, dep]) {
      const sub = join(dir, c === action ? 'action' : 'floor');
      for (let i = 0; i < 5; i++) await runJob(c, false, ['--cpu-prof', '--cpu-prof-dir', sub, '--cpu-prof-interval', '100']);
      // Each step writes its profile when it exits, so in order of writing main and post alternate.
      const files = readdirSync(sub)
        .map((f) => join(sub, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
      for (const [phase, list] of [['main', files.filter((_, i) => i % 2 === 0)], ['post', files.filter((_, i) => i % 2 === 1)]] as const) {
        console.log(`\nCPU profile, ${c.label}, ${phase}:`);
        for (const l of summariseProfiles(list)) console.log(`  ${l}`);
      }
    }
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  result = 1;
} finally {
  await emu.close();
}
console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = result;
