/**
 * `npm run bench` (a benchmark, not a test: CI does not run it). On the Node that runs it (Node 24 from the `node`
 * dev dependency under npm scripts), times the bundled action's main and post steps through RunnerJob against an
 * in-process emulator, next to two floors run the same way (same runner harness, same inputs, same trust: Node's
 * roots plus the emulator CA as the tls-ca-certificates input, same single request per step):
 *   - physical floor:   bench/floor-https.ts (node:https only), compiled by build:tools;
 *   - dependency floor: bench/floor-deps.ts (@actions/core + undici as the bundle has it), built like dist/
 *     (scripts/bundle.mjs: ncc, then ASCII-only) into .build/ (rebuilt only when its inputs change).
 * Warm-up, then rounds; within a round the six steps run in turn, the order of the three commands rotating per
 * round, so machine drift hits all alike. Targets use the median of per-round ratios (paired). Reports medians,
 * ratios, request counts, undici copies, dist/ sizes, and guards the default path's start-up (bench/default-path.json):
 * the files main and post load, the modules and size of dist/index.js. Exits 1 when a target is missed.
 *
 * BENCH_BASELINE=DIR adds an earlier version of the action, run the same way (its action.yml's main and post), to
 * compare before and after a change: DIR holds its action.yml and dist/, e.g.
 * `mkdir /tmp/base && git archive REV action.yml dist | tar -x -C /tmp/base`.
 * BENCH_ROUNDS=n (default 30, at least 15; fewer are run when the time budget runs out, and the bench says so),
 * BENCH_PROFILE=1 adds a --cpu-prof run of main and post with the top self-time functions.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { D1Emulator } from '../emulator/server.js';
import { seedScenario } from '../emulator/scenario.js';
import { loadedFiles, recordLoadedFiles } from '../harness/loaded-files.js';
import { DIST_BUNDLE, RunnerJob, projectRoot, type StepResult } from '../harness/runner.js';

const started = performance.now();
const BUDGET_MS = process.env.BENCH_PROFILE ? 180_000 : 115_000;
const deadline = setTimeout(() => {
  console.error(`bench: over its ${BUDGET_MS / 1000} s budget, stopping`);
  process.exit(2);
}, BUDGET_MS);
deadline.unref();

const ROOT = projectRoot();
const MIN_ROUNDS = 15;
const ROUNDS = Math.max(MIN_ROUNDS, Number(process.env.BENCH_ROUNDS) || 30);
const WARMUP = 2;
const BUILD = join(ROOT, '.build');
/** Time kept for the untimed runs and the report after the timed rounds. */
const REPORT_RESERVE_MS = 12_000;
/** The targets: each step's wall time against the physical floor's, and against the dependency floor's. */
const PHYSICAL_TARGET = 1.2;
const DEPENDENCY_TARGET = 1.15;

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

/** bench/floor-deps.ts bundled with ncc; rebuilt only when what goes into it changed (ncc takes ~20 s). */
function buildDepFloor(): string {
  const out = join(BUILD, 'bench-floor-deps');
  const inputs = ['bench/floor-deps.ts', 'package-lock.json', 'tsconfig.json', 'shims/undici/index.cjs', 'shims/undici/package.json', 'scripts/bundle.mjs'];
  const key = createHash('sha256');
  for (const f of inputs) key.update(`${f}\n`).update(readFileSync(join(ROOT, f)));
  const digest = key.digest('hex');
  const stamp = join(out, 'inputs.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && existsSync(join(out, 'index.js'))) return join(out, 'index.js');
  // The same build as `npm run bundle` (ncc, then ASCII-only), entry and output aside.
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), join(ROOT, 'bench', 'floor-deps.ts'), out], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building bench/floor-deps.ts failed:\n${r.stderr}${r.stdout}`);
  writeFileSync(stamp, digest);
  return join(out, 'index.js');
}

/** undici's code: installed once (as undici-upstream, behind shims/undici), bundled once, and only its parts. */
function undiciCopies(): { installed: string[]; inBundle: number; whole: boolean } {
  const r = spawnSync('npm', ['ls', 'undici', 'undici-upstream', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
  // node_modules/undici is the shim (a link to shims/undici): its code is undici-upstream's.
  const installed = [...new Set(r.stdout.split('\n').filter((l) => l.trim()))].map((p) => relative(ROOT, realpathSync(p))).filter((p) => !p.startsWith('shims'));
  const bundle = readFileSync(DIST_BUNDLE, 'utf8');
  // One class definition per bundled copy of undici; the WebSocket class only when undici's index was bundled.
  const inBundle = bundle.match(/class EnvHttpProxyAgent extends/g)?.length ?? 0;
  return { installed, inBundle, whole: bundle.includes('class WebSocket extends') };
}

interface DefaultPath {
  maxBytes: number;
  entryFiles: { main: string[]; post: string[] };
  modules: string[];
}
interface Manifest {
  [file: string]: { sha256: string; bytes: number; modules: string[]; ids?: Record<string, string> };
}

/** The default path's guard, without running anything: dist/index.js's modules and size against bench/default-path.json. */
function defaultPathModules(want: DefaultPath): [string, boolean][] {
  const manifestFile = join(BUILD, 'dist-modules.json');
  const bundle = readFileSync(DIST_BUNDLE);
  const sha = createHash('sha256').update(bundle).digest('hex');
  const manifest = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest) : {};
  const entry = manifest['index.js'];
  if (!entry || entry.sha256 !== sha) {
    return [['default path: .build/dist-modules.json describes dist/index.js (it does not: run `npm run bundle`, which writes it)', false]];
  }
  const allowed = new Set(want.modules);
  const added = entry.modules.filter((m) => !allowed.has(m));
  const gone = want.modules.filter((m) => !entry.modules.includes(m));
  if (gone.length) console.log(`note: ${gone.length} module(s) of bench/default-path.json are no longer in dist/index.js: ${gone.join(', ')}`);
  const ascii = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js') && /[^\x00-\x7f]/.test(readFileSync(join(ROOT, 'dist', f), 'latin1')));
  return [
    [`default path: dist/index.js holds no module beyond bench/default-path.json's ${want.modules.length}${added.length ? ` (new: ${added.join(', ')}; make each a chunk, a dynamic import() loaded when its input is set)` : ''}`, added.length === 0],
    [`default path: dist/index.js ≤ ${(want.maxBytes / 1000).toFixed(0)} KB (${(bundle.length / 1000).toFixed(1)} KB)`, bundle.length <= want.maxBytes],
    [`dist/*.js ASCII-only, read by Node as one-byte strings${ascii.length ? ` (not: ${ascii.join(', ')}; run npm run bundle)` : ''}`, ascii.length === 0],
  ];
}

function distFiles(): { file: string; bytes: number }[] {
  const dist = join(ROOT, 'dist');
  return readdirSync(dist, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dist, f)).isFile())
    .sort()
    .map((f) => ({ file: `dist/${f}`, bytes: statSync(join(dist, f)).size }));
}

/** Which module each line of dist/index.js belongs to (from the markers ncc writes and .build/dist-modules.json). */
function bundleLineModules(): (line: number) => string {
  const manifestFile = join(BUILD, 'dist-modules.json');
  const ids = existsSync(manifestFile) ? ((JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest)['index.js']?.ids ?? {}) : {};
  const owner: string[] = [];
  let current = '(webpack runtime)';
  for (const text of readFileSync(DIST_BUNDLE, 'utf8').split('\n')) {
    const opened = /^\/\*\*\*\/ (\d+):$/.exec(text);
    const concatenated = /^;\/\/ CONCATENATED MODULE: (.+)$/.exec(text);
    if (opened) current = ids[opened[1]!] ?? `module ${opened[1]}`;
    else if (concatenated) current = concatenated[1]!;
    owner.push(current);
  }
  return (line) => owner[line] ?? '(webpack runtime)';
}

/** A module's package, for the profile: undici, @actions/* (with tunnel), the action's own code. */
function packageOf(module: string): string {
  if (module.includes('undici')) return 'bundle: undici';
  if (module.includes('@actions/') || module.includes('tunnel')) return 'bundle: @actions/* (core, http-client, exec, io, tunnel)';
  if (module.startsWith('./src/')) return "bundle: the action's own code";
  return 'bundle: webpack runtime and externals';
}

/**
 * Self time of .cpuprofile files, averaged over the files: by what it was spent on (compiling the bundle, Node's
 * built-ins, the TLS trust list, each package of the bundle, GC, …) and the top functions.
 */
function summariseProfiles(files: string[], top = 10): string[] {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const moduleAt = bundleLineModules();
  const agg = new Map<string, number>();
  const where = new Map<string, number>();
  let total = 0;
  const category = (n: Node): string => {
    const { functionName: fn, url, lineNumber } = n.callFrame;
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)' || fn === '(idle)') return `${fn} (V8 outside JS: parsing, startup, waiting)`;
    if (fn === 'compileSourceTextModule' || fn === 'compileFunction') return 'compiling ES modules (the bundle, the entry)';
    if (fn === 'decodeUTF8' || (fn === 'decode' && url.includes('encoding')) || fn === 'read' || fn === 'readFileUtf8') return 'reading and decoding source files';
    if (url.includes('tls/secure-context') || fn === 'addCACerts' || (fn === 'SecureContext' && url.includes('tls')) || fn === 'getRootCertificates') return 'TLS trust list (parsing CA certificates)';
    if (fn === 'compileForInternalLoader' || fn === 'requireBuiltin' || fn === 'internalBinding' || fn === 'compileForPublicLoader') return "loading Node's built-in modules";
    if (url.endsWith('/dist/index.js')) return packageOf(moduleAt(lineNumber));
    if (url.includes('bench-floor-deps')) return 'the dependency floor bundle (@actions/core, undici, its few lines)';
    if (url.includes('/dist/') || url.includes('.build/bench/')) return 'the step script itself';
    if (url.startsWith('node:')) return 'Node built-ins running (TLS, net, http, fs, ESM loader)';
    if (url.startsWith('wasm://') || fn === 'js-to-wasm') return "undici's HTTP parser (WebAssembly)";
    return url ? 'other' : 'V8/native other';
  };
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    total += (p.endTime - p.startTime) / 1000;
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      const n = byId.get(id)!;
      const place = category(n);
      where.set(place, (where.get(place) ?? 0) + us);
      const url = n.callFrame.url;
      const key = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
      agg.set(key, (agg.get(key) ?? 0) + us);
    });
  }
  const per = (us: number) => (us / 1000 / files.length).toFixed(1);
  const lines = [`${files.length} profiles, mean ${(total / files.length).toFixed(1)} ms profiled (the profiler slows compiling most); self time by what it was spent on:`];
  for (const [k, us] of [...where].sort((a, b) => b[1] - a[1])) lines.push(`  ${per(us).padStart(6)} ms  ${k}`);
  lines.push('top functions:');
  for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${per(us).padStart(6)} ms  ${k}`);
  return lines;
}

interface Command {
  label: string;
  /** undefined: the action as action.yml starts it (dist/main.js, dist/post.js). */
  entry: string | undefined;
  /** An action.yml other than this project's (BENCH_BASELINE). */
  actionYml?: string;
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
  ...(process.env.BENCH_BASELINE
    ? [{ label: 'baseline', entry: undefined, actionYml: join(process.env.BENCH_BASELINE, 'action.yml'), main: [], post: [], mainRequests: [], postRequests: [] }]
    : []),
];

function check(step: StepResult, what: string, reqs: { method: string; status: number }[], want: string, compare = true): void {
  const got = reqs.map((r) => `${r.method} ${r.status}`).join(', ');
  if (step.exitCode !== 0 || (compare && got !== want)) {
    throw new Error(`${what}: exit ${step.exitCode}, requests [${got}], expected [${want}]\n${step.log.join('\n')}`);
  }
}

async function runJob(c: Command, record: boolean, nodeArgs: string[] = [], extra: Record<string, string> = inputs): Promise<void> {
  const job = new RunnerJob({ inputs: extra, caPem: emu.caPem, entry: c.entry, nodeArgs, ...(c.actionYml ? { actionYml: c.actionYml } : {}) });
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
  // The default path's start-up guard, before any timing: what dist/index.js holds, and what each step loads.
  const want = JSON.parse(readFileSync(join(ROOT, 'bench', 'default-path.json'), 'utf8')) as DefaultPath;
  const guards = defaultPathModules(want);
  const record = join(mkdtempSync(join(tmpdir(), 'd1-bench-loads-')), 'loaded.txt');
  const loads: Record<'main' | 'post', string[]> = { main: [], post: [] };
  {
    const job = new RunnerJob({ inputs, caPem: emu.caPem, nodeArgs: recordLoadedFiles(record) });
    try {
      check(await job.main(), 'default path main (recording loads)', [], '', false);
      loads.main = loadedFiles(record);
      check(await job.post(), 'default path post (recording loads)', [], '', false);
      loads.post = loadedFiles(record);
    } finally {
      job.cleanup();
    }
  }
  for (const phase of ['main', 'post'] as const) {
    const extra = loads[phase].filter((f) => !want.entryFiles[phase].includes(f));
    guards.push([`default path: ${phase} loads ${want.entryFiles[phase].join(' and ')} only (${loads[phase].join(', ')}${extra.length ? `; a feature's chunk on the default path: ${extra.join(', ')}` : ''})`, extra.length === 0 && loads[phase].length > 0]);
  }

  let rounds = 0;
  let stoppedEarly = false;
  const loopStart = performance.now();
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    // Past the minimum, a round is run only if it (at the mean round time so far) ends within the budget.
    const perRound = (performance.now() - loopStart) / Math.max(1, round);
    if (round >= WARMUP + MIN_ROUNDS && performance.now() - started + perRound > BUDGET_MS - REPORT_RESERVE_MS) {
      stoppedEarly = true;
      break;
    }
    for (let k = 0; k < commands.length; k++) await runJob(commands[(round + k) % commands.length]!, round >= WARMUP);
    if (round >= WARMUP) rounds++;
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
  console.log(`\n${rounds} rounds after ${WARMUP} warm-up rounds${stoppedEarly ? ` (of ${ROUNDS} asked: the ${BUDGET_MS / 1000} s budget ran short)` : ''}; each round runs main+post of each command in turn (order rotating).`);
  console.log('wall time of one step, spawn to exit, through the runner harness:\n');
  console.log(`${'command'.padEnd(24)} ${'main median'.padStart(12)} ${'(p10–p90)'.padStart(18)} ${'post median'.padStart(12)} ${'(p10–p90)'.padStart(18)}`);
  for (const c of commands) {
    const range = (xs: number[]) => `${quantile(xs, 0.1).toFixed(0)}–${quantile(xs, 0.9).toFixed(0)} ms`;
    console.log(`${c.label.padEnd(24)} ${fmtMs(median(c.main)).padStart(12)} ${range(c.main).padStart(18)} ${fmtMs(median(c.post)).padStart(12)} ${range(c.post).padStart(18)}`);
  }
  // The median of per-round ratios (each round's step against the floor's, run close together) is what the targets
  // use, as it cancels load that shifts between rounds; the ratio of medians is printed beside it.
  const paired = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
  const ratio = {
    physMain: paired(action.main, phys.main),
    physPost: paired(action.post, phys.post),
    depMain: paired(action.main, dep.main),
    depPost: paired(action.post, dep.post),
  };
  const ofMedians = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(3);
  console.log('\n                                   paired (median of per-round ratios)   ratio of medians');
  console.log(`action / physical floor:           main ${ratio.physMain.toFixed(3)}×, post ${ratio.physPost.toFixed(3)}×        main ${ofMedians(action.main, phys.main)}×, post ${ofMedians(action.post, phys.post)}×`);
  console.log(`action / dependency floor:         main ${ratio.depMain.toFixed(3)}×, post ${ratio.depPost.toFixed(3)}×        main ${ofMedians(action.main, dep.main)}×, post ${ofMedians(action.post, dep.post)}×`);
  console.log(`dependency floor / physical floor: main ${paired(dep.main, phys.main).toFixed(3)}×, post ${paired(dep.post, phys.post).toFixed(3)}×        main ${ofMedians(dep.main, phys.main)}×, post ${ofMedians(dep.post, phys.post)}×`);
  for (const extra of commands.slice(3)) {
    console.log(`${`${extra.label} / physical floor:`.padEnd(35)}main ${paired(extra.main, phys.main).toFixed(3)}×, post ${paired(extra.post, phys.post).toFixed(3)}×`);
  }

  const mainReqs = Math.max(...action.mainRequests);
  const postReqs = Math.max(...action.postRequests);
  console.log(`\nrequests per step seen by the emulator: main ${mainReqs} (service-user-id named), ${meMainReqs.length} with service-user-id: me [${meMainReqs.join(', ')}]; post ${postReqs} (${mePostReqs} with me)`);

  const u = undiciCopies();
  console.log(`undici: npm ls finds ${u.installed.length} cop${u.installed.length === 1 ? 'y' : 'ies'} (${u.installed.join(', ')}); dist/index.js defines EnvHttpProxyAgent ${u.inBundle}×${u.whole ? ', and all of undici (WebSocket too)' : ', and only the parts shims/undici exports'}`);
  console.log(`default path loads: main ${loads.main.join(', ')}; post ${loads.post.join(', ')}`);

  const files = distFiles();
  const total = files.reduce((a, f) => a + f.bytes, 0);
  const bundleScript = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.bundle ?? '';
  const minified = /(^|\s)(-m|--minify)(\s|$)/.test(`${bundleScript} ${readFileSync(join(ROOT, 'scripts', 'bundle.mjs'), 'utf8')}`.replace(/\/\/.*$/gm, ''));
  console.log(`dist/ (${minified ? 'minified' : 'unminified'}: ${bundleScript}):`);
  for (const f of files) console.log(`  ${f.file.padEnd(22)} ${String(f.bytes).padStart(10)} B  ${kb(f.bytes).padStart(10)}`);
  console.log(`  ${'total'.padEnd(22)} ${String(total).padStart(10)} B  ${kb(total).padStart(10)}`);

  const brokerBytes = files.filter((f) => f.file.startsWith('dist/broker/')).reduce((n, f) => n + f.bytes, 0);
  const actionBytes = total - brokerBytes;
  const targets: [string, boolean][] = [
    [`main ≤ ${PHYSICAL_TARGET}× physical floor (paired ${ratio.physMain.toFixed(3)}×)`, ratio.physMain <= PHYSICAL_TARGET],
    [`post ≤ ${PHYSICAL_TARGET}× physical floor (paired ${ratio.physPost.toFixed(3)}×)`, ratio.physPost <= PHYSICAL_TARGET],
    [`main ≤ ${DEPENDENCY_TARGET}× dependency floor (paired ${ratio.depMain.toFixed(3)}×)`, ratio.depMain <= DEPENDENCY_TARGET],
    [`post ≤ ${DEPENDENCY_TARGET}× dependency floor (paired ${ratio.depPost.toFixed(3)}×)`, ratio.depPost <= DEPENDENCY_TARGET],
    [`at least ${MIN_ROUNDS} timed rounds (${rounds})`, rounds >= MIN_ROUNDS],
    ...guards,
    [`main ≤ 2 requests, 1 when the service user is named (${meMainReqs.length} / ${mainReqs})`, meMainReqs.length <= 2 && mainReqs === 1],
    [`post 1 request (${postReqs})`, postReqs === 1],
    [`one undici copy, only its parts in the bundle (${u.installed.length} installed, ${u.inBundle} in the bundle${u.whole ? ', whole' : ''})`, u.installed.length === 1 && u.inBundle === 1 && !u.whole],
    // The action's files and the broker's bundle apart: a step never loads dist/broker/ (the organisation's service).
    [`dist/ without broker/ ≤ 1.4 MB, unminified (${kb(actionBytes)}, ${minified ? 'minified' : 'unminified'})`, actionBytes <= 1_400_000 && !minified],
    [`dist/broker/ ≤ 1 MB (${kb(brokerBytes)})`, brokerBytes <= 1_000_000],
  ];
  console.log('\ntargets:');
  for (const [what, ok] of targets) console.log(`  ${verdict(ok)}  ${what}`);
  const missed = targets.filter(([, ok]) => !ok).length;
  if (missed) {
    console.log(`\n${missed} target(s) missed.`);
    result = 1;
  }

  if (process.env.BENCH_PROFILE) {
    const dir = join(BUILD, 'profiles');
    rmSync(dir, { recursive: true, force: true });
    for (const c of [action, dep, phys]) {
      const sub = join(dir, c === action ? 'action' : c === dep ? 'dependency-floor' : 'physical-floor');
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
  result = 2;
} finally {
  await emu.close();
}
console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = result;
