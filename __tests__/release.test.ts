import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  attestSubjects,
  changelogSections,
  checkVersions,
  dryRun,
  globMatch,
  parseVersion,
  plan,
  readReleaseFiles,
  releaseNotes,
  tagNames,
  type DryRunFacts,
  type ReleaseFiles,
} from '../scripts/release.js';

const CHANGELOG = [
  '# Changelog',
  '',
  '## [Unreleased]',
  '- something not yet released',
  '',
  '## [1.2.0] - 2026-12-01',
  '',
  '### Added',
  '- `scope` accepts several roles.',
  '',
  '## [1.1.3] - 2026-11-20',
  '### Fixed',
  '- revocation retried on 503.',
  '',
  '[1.2.0]: https://example.invalid/compare/v1.1.3...v1.2.0',
  '[1.1.3]: https://example.invalid/releases/v1.1.3',
  '',
].join('\n');

function files(over: Partial<{ version: string; lock: string; ua: string; changelog: string }> = {}): ReleaseFiles {
  const version = over.version ?? '1.2.0';
  const lock = over.lock ?? version;
  return {
    packageJson: JSON.stringify({ name: 'd1-token-action', version }),
    packageLock: JSON.stringify({ name: 'd1-token-action', version: lock, packages: { '': { version: lock } } }),
    versionTs: `export const VERSION = '${over.ua ?? version}';\nexport const USER_AGENT = \`d1-token-action/\${VERSION}\`;\n`,
    changelog: over.changelog ?? CHANGELOG,
  };
}

describe('release: versions and tag names', () => {
  it('accepts X.Y.Z and X.Y.Z-pre, refuses anything that could smuggle text into a tag or a shell', () => {
    expect(parseVersion('1.2.3')).toMatchObject({ major: 1, minor: 2, patch: 3, prerelease: undefined });
    expect(parseVersion('2.0.0-rc.1').prerelease).toBe('rc.1');
    for (const bad of ['v1.2.3', '1.2', '01.2.3', '1.2.3+build', '1.2.3-', '1.2.3 ', '1.2.3\nx=1', '1.2.3;rm -rf', '']) {
      expect(() => parseVersion(bad), bad).toThrow(/not a release version/);
    }
  });

  it('vX.Y.Z is the immutable tag, vX the major tag; a prerelease moves no major tag', () => {
    expect(tagNames('1.2.3')).toEqual({ tag: 'v1.2.3', major: 'v1' });
    expect(tagNames('10.0.0')).toEqual({ tag: 'v10.0.0', major: 'v10' });
    expect(tagNames('2.0.0-rc.1')).toEqual({ tag: 'v2.0.0-rc.1', major: undefined });
  });
});

describe('release: notes from CHANGELOG.md', () => {
  it('takes exactly the section of the version: not Unreleased, not the next section, not link references', () => {
    const notes = releaseNotes(CHANGELOG, '1.2.0');
    expect(notes).toBe('### Added\n- `scope` accepts several roles.\n');
    const older = releaseNotes(CHANGELOG, '1.1.3');
    expect(older).toBe('### Fixed\n- revocation retried on 503.\n');
    expect(older).not.toContain('example.invalid');
  });

  it('reads a CRLF CHANGELOG (a Windows checkout without .gitattributes) the same way', () => {
    expect(releaseNotes(CHANGELOG.replace(/\n/g, '\r\n'), '1.2.0')).toBe('### Added\n- `scope` accepts several roles.\n');
  });

  it('refuses a missing, undated or empty section', () => {
    expect(() => releaseNotes(CHANGELOG, '9.9.9')).toThrow(/no "## \[9\.9\.9\] - YYYY-MM-DD" section/);
    expect(() => releaseNotes('## [1.0.0] - unreleased\n- x\n', '1.0.0')).toThrow(/not dated/);
    expect(() => releaseNotes('## [1.0.0] - 2026-11-24\n\n## [0.9.0] - 2026-01-01\n- y\n', '1.0.0')).toThrow(/empty/);
  });

  it('sections are listed newest first, with their dates', () => {
    expect(changelogSections(CHANGELOG).map((s) => [s.version, s.date])).toEqual([
      ['1.2.0', '2026-12-01'],
      ['1.1.3', '2026-11-20'],
    ]);
  });
});

describe('release: version consistency', () => {
  it('this repository: package.json, package-lock.json, the newest CHANGELOG section and the User-Agent agree', () => {
    const { version, problems } = checkVersions(readReleaseFiles(process.cwd()));
    expect(problems).toEqual([]);
    expect(readFileSync('src/platform/version.ts', 'utf8')).toContain(`'${version}'`);
  });

  it('this repository: one CHANGELOG section for the coming version, no [Unreleased] beside it', () => {
    const changelog = readFileSync('CHANGELOG.md', 'utf8');
    const headings = changelog.split(/\r?\n/).filter((l) => l.startsWith('## ['));
    expect(headings.filter((h) => /^## \[unreleased\]/i.test(h))).toEqual([]);
    // Only the newest section may be undated (the coming version); every older one names its release date.
    expect(changelogSections(changelog).slice(1).filter((x) => !x.date)).toEqual([]);
  });

  it('agreeing files give the plan the workflow reads', () => {
    expect(plan(files())).toBe('ready=true\nversion=1.2.0\ntag=v1.2.0\nmajor=v1\nprerelease=false\n');
  });

  it('names each file that disagrees', () => {
    expect(checkVersions(files({ lock: '1.1.3' })).problems.join('\n')).toMatch(/package-lock\.json says 1\.1\.3/);
    expect(checkVersions(files({ ua: '1.1.3' })).problems.join('\n')).toMatch(/src\/platform\/version\.ts VERSION \(the User-Agent\) says 1\.1\.3/);
    expect(checkVersions(files({ version: '1.3.0', lock: '1.3.0', ua: '1.3.0' })).problems).toEqual([
      "CHANGELOG.md's newest section is 1.2.0, package.json 1.3.0",
    ]);
    expect(checkVersions(files({ version: 'v1.2.0', lock: 'v1.2.0', ua: 'v1.2.0' })).problems[0]).toMatch(/not a release version/);
    expect(() => plan(files({ ua: '1.1.3' }))).toThrow(/not releasable/);
  });

  it('an undated newest section fails a release by hand, and skips one on push (ready=false)', () => {
    const undated = CHANGELOG.replace('## [1.2.0] - 2026-12-01', '## [1.2.0] - unreleased');
    expect(() => plan(files({ changelog: undated }))).toThrow(/1\.2\.0 is not dated/);
    expect(plan(files({ changelog: undated }), { ifReady: true })).toBe('ready=false\n');
    // Versions that disagree fail even on push: that is a mistake, not work in progress.
    expect(() => plan(files({ changelog: undated, lock: '1.0.0' }), { ifReady: true })).toThrow(/package-lock/);
  });
});

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; needs?: string | string[]; if?: string; steps: Step[] }>;
}

describe('release: the workflow runs these scripts', () => {
  const text = readFileSync('.github/workflows/release.yml', 'utf8');
  const wf = parse(text) as Workflow;
  const runs = (job: string) => wf.jobs[job]!.steps.map((s) => s.run ?? '').join('\n');

  it('runs on a push to main touching the version files, or by hand; grants nothing by default', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(wf.permissions).toEqual({});
  });

  it('least privilege: only the release job writes, and it holds exactly what tagging and attesting need', () => {
    expect(wf.jobs.plan!.permissions).toEqual({ contents: 'read' });
    expect(wf.jobs.verify!.permissions).toEqual({ contents: 'read' });
    expect(wf.jobs.release!.permissions).toEqual({ contents: 'write', 'id-token': 'write', attestations: 'write' });
  });

  it('plans with release.js, verifies dist/ and the tests before releasing, then attests dist/ and takes notes from the CHANGELOG', () => {
    expect(runs('plan')).toContain('node .build/scripts/release.js plan');
    // dist/ is built in the unprivileged verify job, on setup-node's Node (not npm run: that puts node_modules/.bin first).
    expect(runs('verify')).toMatch(/(^|\n)node scripts\/bundle\.mjs[\s\S]*git status --porcelain -- dist/);
    expect(runs('verify')).not.toContain('npm run -s bundle');
    expect(runs('verify')).toContain('npm test');
    expect(wf.jobs.verify!.steps.some((s) => s.uses?.startsWith('actions/setup-node@'))).toBe(true);
    expect(wf.jobs.release!.needs).toEqual(['plan', 'verify']);
    const steps = wf.jobs.release!.steps;
    const attest = steps.findIndex((s) => s.uses?.startsWith('actions/attest@'));
    const create = steps.findIndex((s) => s.run?.includes('gh release create'));
    expect(attest).toBeGreaterThan(-1);
    // The privileged job builds nothing: it compares the committed dist/ with the digest verify built, before attesting.
    expect(runs('release')).not.toMatch(/bundle/);
    const compare = steps.findIndex((s) => (s.env as Record<string, string> | undefined)?.BUILT === '${{ needs.verify.outputs.dist-digest }}');
    expect(compare).toBeGreaterThan(-1);
    expect(compare).toBeLessThan(attest);
    expect(steps[compare]!.run).toContain('"$HERE" != "$BUILT"');
    expect(runs('verify')).toContain('sha256sum');
    expect(attest).toBeLessThan(create);
    // Every file of dist/ (entries, bundle, chunks) is a subject of the attestation.
    const subjects = attestSubjects(text);
    const dist = readdirSync('dist', { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).replace(/\\/g, '/'));
    expect(dist).toEqual(expect.arrayContaining(['dist/index.js', 'dist/main.js', 'dist/post.js']));
    expect(dist.filter((f) => !subjects.some((p) => globMatch(p, f)))).toEqual([]);
    expect(runs('release')).toContain('node .build/scripts/release.js notes "$VERSION" > .tmp/release-notes.md');
    expect(steps[create]!.run).toContain('--notes-file .tmp/release-notes.md');
  });

  it('never expands an output inside a script (values reach run: only through env)', () => {
    for (const job of Object.values(wf.jobs)) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });
});

describe('release: dry run (release.js dry-run), everything up to publishing', () => {
  const releaseYml = readFileSync('.github/workflows/release.yml', 'utf8');
  const facts = (over: Partial<DryRunFacts> = {}): DryRunFacts => ({
    files: files(),
    releaseYml,
    distChanges: [],
    distFiles: ['dist/index.js', 'dist/main.js', 'dist/post.js'],
    existingTags: ['v1.1.3'],
    head: 'c0ffee0000000000000000000000000000000000',
    digest: (p) => createHash('sha256').update(p).digest('hex'),
    ...over,
  });

  it('a releasable version: what it would attest (each dist/ file with its digest), tag, move, and the notes', () => {
    const { ok, report } = dryRun(facts());
    expect(ok).toBe(true);
    const lines = report.split('\n');
    expect(lines[0]).toBe('release dry run: nothing is tagged, attested or published');
    for (const f of ['dist/index.js', 'dist/main.js', 'dist/post.js']) expect(lines).toContain(`  ${f}  sha256:${createHash('sha256').update(f).digest('hex')}`);
    expect(lines).toContain('would create tag v1.2.0 and its GitHub release at c0ffee0000000000000000000000000000000000');
    expect(lines).toContain('would move v1 to c0ffee0000000000000000000000000000000000');
    expect(report.endsWith('\n### Added\n- `scope` accepts several roles.')).toBe(true);
  });

  it('an undated section is reported, not a failure (a push then skips the release)', () => {
    const undated = CHANGELOG.replace('## [1.2.0] - 2026-12-01', '## [1.2.0] - unreleased');
    const { ok, report } = dryRun(facts({ files: files({ changelog: undated }) }));
    expect(ok).toBe(true);
    expect(report).toContain('not releasable yet: CHANGELOG.md section 1.2.0 is not dated');
    expect(report).toContain('once ready, would create tag v1.2.0');
  });

  it('fails as the workflow would: versions disagree, dist/ differs from the source, a dist/ file left unattested', () => {
    expect(dryRun(facts({ files: files({ ua: '1.1.3' }) }))).toMatchObject({ ok: false, report: expect.stringMatching(/FAIL versions disagree:\n- src\/platform\/version\.ts/) });
    expect(dryRun(facts({ distChanges: ['M dist/index.js'] }))).toMatchObject({ ok: false, report: expect.stringMatching(/FAIL dist\/ differs from what the source builds.*\n- M dist\/index\.js$/) });
    const narrow = releaseYml.replace('dist/*', 'dist/index.js');
    expect(dryRun(facts({ releaseYml: narrow }))).toMatchObject({ ok: false, report: expect.stringMatching(/leaves out files of dist\/.*\n- dist\/main\.js\n- dist\/post\.js$/) });
  });

  it('a version whose tag exists releases nothing; a prerelease moves no major tag', () => {
    expect(dryRun(facts({ existingTags: ['v1.2.0'] })).report).toContain('v1.2.0 exists already: the workflow would release nothing');
    const pre = CHANGELOG.replace('## [1.2.0] - 2026-12-01', '## [2.0.0-rc.1] - 2026-12-02');
    const { report } = dryRun(facts({ files: files({ version: '2.0.0-rc.1', changelog: pre }) }));
    expect(report).toContain('v2.0.0-rc.1 is a prerelease: no major tag moves');
  });

  it('globs match within one path segment, as the attest action does', () => {
    expect(globMatch('dist/*', 'dist/894.index.js')).toBe(true);
    expect(globMatch('dist/*', 'dist/sub/x.js')).toBe(false);
    expect(globMatch('dist/index.js', 'dist/indexXjs')).toBe(false);
  });

  // The script itself, in a throw-away git repository whose `npm run bundle` is a stand-in (ncc takes ~20 s).
  const repo = mkdtempSync(join(tmpdir(), 'd1-release-dry-run-'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  const LOADER = pathToFileURL(join(process.cwd(), '__tests__', 'support', 'ts-loader.mjs')).href;
  const SCRIPT = join(process.cwd(), 'scripts', 'release.ts');
  const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'core.autocrlf=false', ...args], { cwd: repo, encoding: 'utf8' });
  const dryRunIn = () => spawnSync(process.execPath, ['--import', LOADER, SCRIPT, 'dry-run'], { cwd: repo, encoding: 'utf8', timeout: 60_000 });

  it('node release.js dry-run rebuilds dist/, compares it, prints what it would do, and leaves tags and files alone', () => {
    const f = files();
    const build = (content: string) => `import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist', { recursive: true });\nwriteFileSync('dist/index.js', ${JSON.stringify(content)});\nwriteFileSync('dist/main.js', "import './index.js';\\n");\n`;
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ ...JSON.parse(f.packageJson), scripts: { bundle: 'node build.mjs' } }));
    writeFileSync(join(repo, 'package-lock.json'), f.packageLock);
    writeFileSync(join(repo, 'CHANGELOG.md'), f.changelog);
    mkdirSync(join(repo, 'src', 'platform'), { recursive: true });
    writeFileSync(join(repo, 'src', 'platform', 'version.ts'), f.versionTs);
    mkdirSync(join(repo, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(repo, '.github', 'workflows', 'release.yml'), releaseYml);
    writeFileSync(join(repo, 'build.mjs'), build('export const bundle = 1;\n'));
    expect(spawnSync('node', ['build.mjs'], { cwd: repo }).status).toBe(0);
    expect(git('init', '-q').status).toBe(0);
    git('add', '.');
    expect(git('commit', '-q', '-m', 'release 1.2.0').status).toBe(0);
    const head = git('rev-parse', 'HEAD').stdout.trim();

    const r = dryRunIn();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('dist/ rebuilt from the source: identical to the committed one');
    const digest = createHash('sha256').update(readFileSync(join(repo, 'dist', 'index.js'))).digest('hex');
    expect(r.stdout).toContain(`  dist/index.js  sha256:${digest}`);
    expect(r.stdout).toContain(`would create tag v1.2.0 and its GitHub release at ${head}`);
    expect(r.stdout).toContain(`would move v1 to ${head}`);
    expect(r.stdout).toContain('### Added\n- `scope` accepts several roles.');
    expect(git('tag', '--list').stdout).toBe('');
    expect(git('status', '--porcelain').stdout).toBe('');

    // A source whose build no longer gives the committed dist/: the dry run fails as the workflow's check would.
    writeFileSync(join(repo, 'build.mjs'), build('export const bundle = 2;\n'));
    const stale = dryRunIn();
    expect(stale.status).toBe(1);
    expect(stale.stdout).toMatch(/FAIL dist\/ differs from what the source builds .*\n- M dist\/index\.js/);
  });
});
