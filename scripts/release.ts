/**
 * What the release workflow (.github/workflows/release.yml) decides, as functions a test can run:
 * the version being released, that package.json, package-lock.json, CHANGELOG.md and the User-Agent agree on it,
 * the tag names, and the release notes (the CHANGELOG section of that version).
 *
 *   node .build/scripts/release.js check          every file agrees; exit 1 with the list of disagreements
 *   node .build/scripts/release.js plan [--if-ready]  `ready=`, `version=`, `tag=`, `major=`, `prerelease=` lines
 *                                                      for $GITHUB_OUTPUT
 *   node .build/scripts/release.js notes X.Y.Z    the release notes of X.Y.Z on stdout
 *   node .build/scripts/release.js dry-run        what the release workflow would do, up to publishing: rebuilds dist/
 *                                                 and compares it with the committed one, lists what it would attest
 *                                                 (with digests), the tags it would create or move and the notes;
 *                                                 changes nothing. Exit 1 when a release would fail.
 *
 * Every file is read as hostile text: a version must match the pattern below before it names a tag or a path.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string | undefined;
  text: string;
}

// Semantic Versioning 2.0 core plus an optional dot-separated prerelease; no build metadata (a tag cannot carry `+`
// meaningfully for users who pin) and no leading zeros.
const NUM = '(0|[1-9]\\d{0,8})';
const VERSION_RE = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-([0-9A-Za-z]+(?:\\.[0-9A-Za-z]+)*))?$`);

export function parseVersion(text: string): Version {
  const m = VERSION_RE.exec(text);
  if (!m) throw new Error(`not a release version (want X.Y.Z or X.Y.Z-pre): ${JSON.stringify(text.slice(0, 40))}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4], text };
}

/** `v1.2.3` is immutable; `v1` moves to the newest 1.x.y. A prerelease gets its own tag and moves nothing. */
export function tagNames(version: string): { tag: string; major: string | undefined } {
  const v = parseVersion(version);
  return { tag: `v${v.text}`, major: v.prerelease === undefined ? `v${v.major}` : undefined };
}

export interface ChangelogSection {
  version: string;
  /** `YYYY-MM-DD`, or undefined while the heading says anything else (e.g. `unreleased`). */
  date: string | undefined;
  body: string;
}

// `## [1.2.3] - 2026-11-24` (Keep a Changelog); the `[Unreleased]` heading has no version and is skipped.
const HEADING_RE = /^## \[([^\]]+)\](?:\s+-\s+(.*))?\s*$/;

export function changelogSections(changelog: string): ChangelogSection[] {
  const out: ChangelogSection[] = [];
  let current: { version: string; date: string | undefined; lines: string[] } | undefined;
  const close = () => {
    if (current) out.push({ version: current.version, date: current.date, body: current.lines.join('\n').trim() });
  };
  for (const line of changelog.split(/\r?\n/)) {
    if (line.startsWith('## ')) {
      close();
      current = undefined;
      const m = HEADING_RE.exec(line);
      if (m && m[1]!.toLowerCase() !== 'unreleased') {
        const when = m[2]?.trim();
        current = { version: m[1]!, date: when && /^\d{4}-\d{2}-\d{2}$/.test(when) ? when : undefined, lines: [] };
      }
      continue;
    }
    // Link references at the end (`[1.0.0]: https://…`) belong to no section's notes.
    if (current && !/^\[[^\]]+\]:\s/.test(line)) current.lines.push(line);
  }
  close();
  return out;
}

/** The notes of one version: its CHANGELOG section, which must exist, be dated and say something. */
export function releaseNotes(changelog: string, version: string): string {
  parseVersion(version);
  const s = changelogSections(changelog).find((x) => x.version === version);
  if (!s) throw new Error(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section`);
  if (!s.date) throw new Error(`CHANGELOG.md section ${version} is not dated: give it "- YYYY-MM-DD" when releasing`);
  if (!s.body) throw new Error(`CHANGELOG.md section ${version} is empty`);
  return `${s.body}\n`;
}

export interface ReleaseFiles {
  packageJson: string;
  packageLock: string;
  changelog: string;
  versionTs: string;
}

export function readReleaseFiles(root: string): ReleaseFiles {
  const read = (p: string) => readFileSync(join(root, p), 'utf8');
  return {
    packageJson: read('package.json'),
    packageLock: read('package-lock.json'),
    changelog: read('CHANGELOG.md'),
    versionTs: read('src/platform/version.ts'),
  };
}

function jsonVersion(text: string, what: string): string {
  const v = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof v !== 'string') throw new Error(`${what} has no "version" string`);
  return v;
}

/**
 * The version every file states, and each disagreement. `release: true` also asks that the CHANGELOG's newest
 * section be dated and non-empty, so what is tagged has notes.
 */
export function checkVersions(files: ReleaseFiles, opts: { release?: boolean } = {}): { version: string; problems: string[] } {
  const problems: string[] = [];
  const version = jsonVersion(files.packageJson, 'package.json');
  try {
    parseVersion(version);
  } catch (e) {
    problems.push(`package.json: ${(e as Error).message}`);
  }
  const lock = JSON.parse(files.packageLock) as { version?: unknown; packages?: Record<string, { version?: unknown }> };
  if (lock.version !== version) problems.push(`package-lock.json says ${String(lock.version)}, package.json ${version} (run npm install)`);
  if (lock.packages?.['']?.version !== version) problems.push(`package-lock.json packages[""] says ${String(lock.packages?.['']?.version)}, package.json ${version}`);

  // src/platform/version.ts is what the User-Agent carries; read the literal, do not import, so this runs on any checkout.
  const ua = /export const VERSION = '([^']*)';/.exec(files.versionTs)?.[1];
  if (ua !== version) problems.push(`src/platform/version.ts VERSION (the User-Agent) says ${String(ua)}, package.json ${version}`);

  const newest = changelogSections(files.changelog)[0];
  if (!newest) problems.push('CHANGELOG.md has no version section');
  else if (newest.version !== version) problems.push(`CHANGELOG.md's newest section is ${newest.version}, package.json ${version}`);
  else if (opts.release) {
    try {
      releaseNotes(files.changelog, version);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { version, problems };
}

/**
 * What release.yml needs, as `name=value` lines. Throws unless every file agrees. When the newest CHANGELOG section
 * is not ready (undated or empty): throws, or with `ifReady` (a push to main that only edits the CHANGELOG) answers
 * `ready=false` so the workflow skips the release instead of failing.
 */
export function plan(files: ReleaseFiles, opts: { ifReady?: boolean } = {}): string {
  const { version, problems } = checkVersions(files);
  if (problems.length) throw new Error(`not releasable:\n- ${problems.join('\n- ')}`);
  try {
    releaseNotes(files.changelog, version);
  } catch (e) {
    if (!opts.ifReady) throw new Error(`not releasable:\n- ${(e as Error).message}`);
    return 'ready=false\n';
  }
  const { tag, major } = tagNames(version);
  return `${['ready=true', `version=${version}`, `tag=${tag}`, `major=${major ?? ''}`, `prerelease=${major === undefined}`].join('\n')}\n`;
}

/** The files release.yml attests: the `subject-path` lines of its actions/attest step (paths, or globs with `*`). */
export function attestSubjects(releaseYml: string): string[] {
  const wf = parse(releaseYml) as { jobs: Record<string, { steps?: { uses?: string; with?: Record<string, string> }[] }> };
  const step = Object.values(wf.jobs).flatMap((j) => j.steps ?? []).find((st) => st.uses?.startsWith('actions/attest@'));
  const paths = step?.with?.['subject-path'];
  if (!paths) throw new Error('release.yml has no actions/attest step with subject-path');
  return paths.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** What a dry run found out, gathered by the caller (git, the build, the files), so the decision can be tested alone. */
export interface DryRunFacts {
  files: ReleaseFiles;
  releaseYml: string;
  /** dist/ paths that differ from the committed ones after the rebuild (`git status --porcelain -- dist`). */
  distChanges: string[];
  /** The files in dist/ after the rebuild (`dist/index.js`, …): everything the runner may load. */
  distFiles: string[];
  /** Tags that exist already (local `git tag`; the workflow asks the remote). */
  existingTags: string[];
  /** The commit a release would tag. */
  head: string;
  /** SHA-256 of a subject file as built, or undefined when it is missing. */
  digest: (path: string) => string | undefined;
}

/**
 * The release workflow's decisions in order (plan, tag exists?, dist/ as built, notes, attest, tag, move the major
 * tag), stopping before anything is published. `ok` is false when the release would fail; an undated CHANGELOG section
 * is not a failure (a push then skips the release), it is reported.
 */
export function dryRun(f: DryRunFacts): { ok: boolean; report: string } {
  const out: string[] = ['release dry run: nothing is tagged, attested or published'];
  const fail = (why: string) => ({ ok: false, report: [...out, `FAIL ${why}`].join('\n') });
  const { version, problems } = checkVersions(f.files);
  if (problems.length) return fail(`versions disagree:\n- ${problems.join('\n- ')}`);
  out.push(`version ${version}: package.json, package-lock.json, CHANGELOG.md and the User-Agent agree`);
  const { tag, major } = tagNames(version);
  if (f.existingTags.includes(tag)) {
    out.push(`${tag} exists already: the workflow would release nothing (vX.Y.Z tags are never moved)`);
    return { ok: true, report: out.join('\n') };
  }
  if (f.distChanges.length) return fail(`dist/ differs from what the source builds (run npm run bundle and commit dist/):\n- ${f.distChanges.join('\n- ')}`);
  out.push('dist/ rebuilt from the source: identical to the committed one');
  const section = changelogSections(f.files.changelog).find((x) => x.version === version)!;
  let ready = true;
  try {
    releaseNotes(f.files.changelog, version);
  } catch (e) {
    ready = false;
    out.push(`not releasable yet: ${(e as Error).message} (a push to main skips the release; a run by hand fails)`);
  }
  const patterns = attestSubjects(f.releaseYml);
  // Every file of dist/ is code or metadata the runner loads (entries, the bundle, its chunks): each must be attested.
  const unattested = f.distFiles.filter((file) => !patterns.some((p) => globMatch(p, file)));
  if (unattested.length) return fail(`release.yml's attestation leaves out files of dist/ (add them to subject-path):\n- ${unattested.join('\n- ')}`);
  out.push(`${ready ? 'would attest' : 'once ready, would attest'} (build provenance, actions/attest; subject-path ${patterns.join(', ')}):`);
  for (const path of f.distFiles) {
    const digest = f.digest(path);
    if (!digest) return fail(`${path} was not built`);
    out.push(`  ${path}  sha256:${digest}`);
  }
  out.push(`${ready ? 'would create' : 'once ready, would create'} tag ${tag} and its GitHub release at ${f.head}`);
  out.push(major ? `would move ${major} to ${f.head}` : `${tag} is a prerelease: no major tag moves`);
  out.push(`release notes (CHANGELOG.md section ${version}${section.date ? ` - ${section.date}` : ', undated'}):`, '', section.body);
  return { ok: true, report: out.join('\n') };
}

/** `*` matches within one path segment, as the attest action's globs do; anything else is literal. */
export function globMatch(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return re.test(path);
}

function run(cmd: string, args: string[], root: string): string {
  // npm is npm.cmd on Windows, which only a shell starts.
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' && cmd === 'npm' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Gathers the facts for dryRun: rebuilds dist/ with `npm run bundle` and asks git what changed. */
export function dryRunFacts(root: string): DryRunFacts {
  run('npm', ['run', '-s', 'bundle'], root);
  const porcelain = run('git', ['status', '--porcelain', '--', 'dist'], root);
  return {
    files: readReleaseFiles(root),
    releaseYml: readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8'),
    distChanges: porcelain.split('\n').map((l) => l.trim()).filter(Boolean),
    distFiles: readdirSync(join(root, 'dist'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
      .sort(),
    existingTags: run('git', ['tag', '--list'], root).split('\n').map((l) => l.trim()).filter(Boolean),
    head: run('git', ['rev-parse', 'HEAD'], root).trim(),
    digest: (path) => {
      try {
        return createHash('sha256').update(readFileSync(join(root, path))).digest('hex');
      } catch {
        return undefined;
      }
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, arg] = process.argv.slice(2);
  const files = readReleaseFiles(process.cwd());
  try {
    if (cmd === 'check') {
      const { version, problems } = checkVersions(files);
      if (problems.length) throw new Error(`versions disagree:\n- ${problems.join('\n- ')}`);
      console.log(`version ${version}: package.json, package-lock.json, CHANGELOG.md and the User-Agent agree`);
    } else if (cmd === 'plan') {
      process.stdout.write(plan(files, { ifReady: arg === '--if-ready' }));
    } else if (cmd === 'notes' && arg) {
      process.stdout.write(releaseNotes(files.changelog, arg));
    } else if (cmd === 'dry-run') {
      const { ok, report } = dryRun(dryRunFacts(process.cwd()));
      console.log(report);
      if (!ok) process.exit(1);
    } else {
      throw new Error('usage: release.js check | plan [--if-ready] | notes X.Y.Z | dry-run');
    }
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
