import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { changelogSections, checkVersions, parseVersion, plan, readReleaseFiles, releaseNotes, tagNames, type ReleaseFiles } from '../scripts/release.js';

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
    expect(readFileSync('src/version.ts', 'utf8')).toContain(`'${version}'`);
  });

  it('agreeing files give the plan the workflow reads', () => {
    expect(plan(files())).toBe('ready=true\nversion=1.2.0\ntag=v1.2.0\nmajor=v1\nprerelease=false\n');
  });

  it('names each file that disagrees', () => {
    expect(checkVersions(files({ lock: '1.1.3' })).problems.join('\n')).toMatch(/package-lock\.json says 1\.1\.3/);
    expect(checkVersions(files({ ua: '1.1.3' })).problems.join('\n')).toMatch(/src\/version\.ts VERSION \(the User-Agent\) says 1\.1\.3/);
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
    expect(runs('verify')).toMatch(/npm run -s bundle[\s\S]*git status --porcelain -- dist/);
    expect(runs('verify')).toContain('npm test');
    expect(wf.jobs.release!.needs).toEqual(['plan', 'verify']);
    const steps = wf.jobs.release!.steps;
    const attest = steps.findIndex((s) => s.uses?.startsWith('actions/attest@'));
    const create = steps.findIndex((s) => s.run?.includes('gh release create'));
    expect(attest).toBeGreaterThan(-1);
    // The attested dist/ is built in the attesting job itself and compared with the committed one.
    const build = steps.findIndex((s) => s.run?.includes('npm run -s bundle'));
    expect(build).toBeGreaterThan(-1);
    expect(build).toBeLessThan(attest);
    expect(steps[build]!.run).toContain('git status --porcelain -- dist');
    expect(attest).toBeLessThan(create);
    // Every file under dist/ (issue 18: the chunk that makes keys and PKCS#12 files was not attested).
    expect(steps[attest]!.with!['subject-path']).toBe('dist/**');
    expect(runs('release')).toContain('node .build/scripts/release.js notes "$VERSION" > .tmp/release-notes.md');
    expect(steps[create]!.run).toContain('--notes-file .tmp/release-notes.md');
  });

  it('never expands an output inside a script (values reach run: only through env)', () => {
    for (const job of Object.values(wf.jobs)) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });
});
