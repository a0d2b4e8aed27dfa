import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = '.github/workflows';
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

// `uses:` lines of every workflow, with file and line for the failure message.
const uses = files.flatMap((f) =>
  readFileSync(join(dir, f), 'utf8')
    .split(/\r?\n/)
    .map((line, i) => ({ where: `${f}:${i + 1}`, line: line.trim() }))
    .filter((x) => /^-?\s*uses:/.test(x.line)),
);

describe('supply chain: workflows', () => {
  it('there are workflows to check', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'check-dist.yml', 'release.yml']));
    expect(uses.length).toBeGreaterThan(5);
  });

  it('every third-party `uses:` is pinned to a full commit SHA with its version in a comment', () => {
    const bad = uses
      .filter((u) => !/^-?\s*uses: \.\//.test(u.line)) // this repository's own action
      .filter((u) => !/^-?\s*uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/.test(u.line))
      .map((u) => `${u.where}: ${u.line}`);
    expect(bad).toEqual([]);
  });

  it('the same action is pinned to the same commit everywhere (Dependabot bumps them together)', () => {
    const pins = new Map<string, Set<string>>();
    for (const u of uses) {
      const m = /uses: ([^@\s]+)@([0-9a-f]{40})/.exec(u.line);
      if (m) pins.set(m[1]!, (pins.get(m[1]!) ?? new Set()).add(m[2]!));
    }
    for (const [action, shas] of pins) expect([...shas], action).toHaveLength(1);
  });

  it('checkout never leaves the token in .git/config', () => {
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const checkouts = text.match(/uses: actions\/checkout@/g)?.length ?? 0;
      const without = text.match(/persist-credentials: false/g)?.length ?? 0;
      expect(without, f).toBe(checkouts);
    }
  });

  it('Dependabot watches npm and GitHub Actions, grouped', () => {
    const text = readFileSync('.github/dependabot.yml', 'utf8');
    expect(text).toMatch(/package-ecosystem: npm/);
    expect(text).toMatch(/package-ecosystem: github-actions/);
    expect(text.match(/groups:/g)?.length).toBe(2);
  });
});

describe('docs: one name for one thing', () => {
  it('the service user id variable is vars.D1_SERVICE_USER_ID in the README, examples and workflows', () => {
    const places = ['README.md', ...readdirSync('examples').map((f) => join('examples', f)), ...files.map((f) => join(dir, f))];
    const names = new Set<string>();
    for (const p of places) for (const m of readFileSync(p, 'utf8').matchAll(/vars\.(D1_\w*USER\w*)/g)) names.add(m[1]!);
    expect([...names]).toEqual(['D1_SERVICE_USER_ID']);
  });
});
