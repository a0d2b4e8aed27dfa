// `npm run bundle`: dist/ from src/ with ncc, then every generated .js file made ASCII-only.
//
// 1. Every generated file of dist/ is removed first (all but HAND_WRITTEN), so a chunk ncc no longer emits cannot
//    stay behind: .ci/run's "dist/ matches the source" check then sees it as deleted.
// 2. ncc builds src/index.ts (the shared bundle; dynamic import()s become NNN.index.js chunks), then broker/main.ts
//    into dist/broker/ (the organisation's broker service: a bundle of its own, never loaded by a step).
// 3. Any non-ASCII character in a generated .js file is written as a \uXXXX escape. Node decodes an ESM file from
//    UTF-8, and V8 holds and scans it as a two-byte string as soon as one character is outside Latin-1 (the bundle
//    had 139, all in comments and messages): ASCII-only, the same program loads measurably faster (bench/README.md).
//    \uXXXX means the same character in a string, a template, a regular expression, an identifier and a comment.
//    A tagged template's raw text would differ; the build fails if a String.raw template holds such a character.
// 4. .build/dist-modules.json: for each generated file, its SHA-256, its size, the modules ncc put in it and their
//    ids (from ncc's webpack stats). `npm run bench` reads it to fail when a module joins the default path's
//    dist/index.js, and to say which package each sample of a CPU profile was spent in.
//
// `node scripts/bundle.mjs ENTRY OUTDIR` builds another entry the same way (the bench's dependency floor), with no
// license file and no manifest.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entryArg, outArg] = process.argv.slice(2);
const isDist = entryArg === undefined;
const DIST = isDist ? join(ROOT, 'dist') : resolve(outArg ?? '');
if (!isDist && !outArg) throw new Error('usage: node scripts/bundle.mjs [ENTRY OUTDIR]');
/** The runner's entry files (action.yml runs.main and runs.post): source, not build output. */
const HAND_WRITTEN = isDist ? ['main.js', 'post.js'] : [];

mkdirSync(DIST, { recursive: true });
for (const f of readdirSync(DIST)) if (!HAND_WRITTEN.includes(f)) rmSync(join(DIST, f), { recursive: true, force: true });

const BUILD = join(ROOT, '.build');
mkdirSync(BUILD, { recursive: true });
const statsFile = join(BUILD, 'ncc-stats.json');
const ncc = join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
const args = isDist
  ? ['src/index.ts', '-o', 'dist', '--license', 'licenses.txt', '--target', 'es2022', '--stats-out', statsFile]
  : [resolve(entryArg), '-o', DIST, '--target', 'es2022', '--quiet'];
const r = spawnSync(process.execPath, [ncc, 'build', ...args], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const BROKER = join(DIST, 'broker');
if (isDist) {
  const b = spawnSync(process.execPath, [ncc, 'build', 'broker/main.ts', '-o', 'dist/broker', '--license', 'licenses.txt', '--target', 'es2022', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

/** `text` with every character outside ASCII written as \uXXXX (two escapes, a surrogate pair, above U+FFFF). */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const generated = readdirSync(DIST).filter((f) => f.endsWith('.js') && !HAND_WRITTEN.includes(f)).map((f) => join(DIST, f));
if (isDist) generated.push(...readdirSync(BROKER).filter((f) => f.endsWith('.js')).map((f) => join(BROKER, f)));
for (const path of generated) {
  const f = path.slice(DIST.length + 1);
  const text = readFileSync(path, 'utf8');
  if (/String\.raw`[^`]*[^\x00-\x7f]/.test(text)) throw new Error(`${f}: a String.raw template holds a non-ASCII character; its raw text would change`);
  const ascii = asciiOnly(text);
  if (ascii !== text) writeFileSync(path, ascii);
}
if (!isDist) process.exit(0);

// Modules per emitted file: a concatenated module ("./src/index.ts + 40 modules") lists the modules inside it.
const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
const fileOf = new Map(stats.chunks.map((c) => [c.id, c.files[0]]));
const modules = new Map();
// Module id to name per file: a line "/***/ <id>:" opens that module's code in the file (the bench's profile reads it).
const ids = new Map();
for (const m of stats.modules) {
  for (const id of m.chunks) {
    const file = fileOf.get(id);
    if (!ids.has(file)) ids.set(file, {});
    if (m.id !== null && m.id !== undefined) ids.get(file)[m.id] = m.name.replace(/ \+ \d+ modules$/, '');
  }
  for (const id of m.chunks) {
    const file = fileOf.get(id);
    if (!modules.has(file)) modules.set(file, new Set());
    for (const inner of m.modules ?? [m]) modules.get(file).add(inner.name.replace(/ \+ \d+ modules$/, ''));
  }
}
const manifest = {};
for (const [file, names] of [...modules].sort((a, b) => a[0].localeCompare(b[0]))) {
  const bytes = readFileSync(join(DIST, file));
  manifest[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, modules: [...names].sort(), ids: ids.get(file) ?? {} };
}
writeFileSync(join(BUILD, 'dist-modules.json'), `${JSON.stringify(manifest, null, 2)}\n`);
rmSync(statsFile, { force: true });
