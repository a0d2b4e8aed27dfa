/**
 * What the release workflow (.github/workflows/release.yml) decides, as functions a test can run:
 * the version being released, that package.json, package-lock.json, CHANGELOG.md and the User-Agent agree on it,
 * the tag names, and the release notes (the CHANGELOG section of that version).
 *
 *   node .build/scripts/release.js check          every file agrees; exit 1 with the list of disagreements
 *   node .build/scripts/release.js plan [--if-ready]  `ready=`, `version=`, `tag=`, `major=`, `prerelease=` lines
 *                                                      for $GITHUB_OUTPUT
 *   node .build/scripts/release.js notes X.Y.Z    the release notes of X.Y.Z on stdout
 *
 * Every file is read as hostile text: a version must match the pattern below before it names a tag or a path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
    versionTs: read('src/version.ts'),
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

  // src/version.ts is what the User-Agent carries; read the literal, do not import, so this runs on any checkout.
  const ua = /export const VERSION = '([^']*)';/.exec(files.versionTs)?.[1];
  if (ua !== version) problems.push(`src/version.ts VERSION (the User-Agent) says ${String(ua)}, package.json ${version}`);

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
    } else {
      throw new Error('usage: release.js check | plan [--if-ready] | notes X.Y.Z');
    }
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
