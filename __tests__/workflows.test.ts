import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'check-dist.yml', 'release.yml', 'codeql.yml']));
    expect(uses.length).toBeGreaterThan(5);
  });

  it('every third-party `uses:` is pinned to a full commit SHA with its version in a comment', () => {
    const bad = uses
      .filter((u) => !/^-?\s*uses: \.\//.test(u.line)) // this repository's own action
      .filter((u) => !/^-?\s*uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/.test(u.line))
      .map((u) => `${u.where}: ${u.line}`);
    expect(bad).toEqual([]);
  });

  it('the examples users copy pin third-party actions the same way, and a job that signs runs in an environment', () => {
    const examples = readdirSync('examples').filter((f) => /\.ya?ml$/.test(f));
    const bad: string[] = [];
    for (const f of examples) {
      const text = readFileSync(join('examples', f), 'utf8');
      text.split(/\r?\n/).forEach((line, i) => {
        const m = /^\s*-?\s*uses: (\S+)(.*)$/.exec(line);
        // This action itself is shown by its major tag (the org is a placeholder a user replaces); all else by SHA.
        if (m && !/(^|\/)d1-token-action@/.test(m[1]!) && !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(m[1]!)) bad.push(`examples/${f}:${i + 1}: ${line.trim()}`);
      });
      const wf = parse(text) as { jobs: Record<string, { environment?: unknown; steps: { uses?: string }[] }> };
      for (const [name, job] of Object.entries(wf.jobs)) {
        const signs = job.steps.some((st) => st.uses?.startsWith('digicert/code-signing-software-trust-action@'));
        if (signs && !job.environment) bad.push(`examples/${f}: job ${name} signs without an environment:`);
      }
    }
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

  it('live.yml builds before any secret enters a step; the step holding the secrets compiles nothing', () => {
    const wf = parse(readFileSync(join(dir, 'live.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string; env?: Record<string, string>; with?: Record<string, string> }[] }> };
    const steps = wf.jobs.contract!.steps;
    const holds = (s: (typeof steps)[number]) => JSON.stringify({ env: s.env, with: s.with }).includes('secrets.');
    const firstSecret = steps.findIndex(holds);
    const build = steps.findIndex((s) => /build:tools|tsc/.test(s.run ?? ''));
    expect(build).toBeGreaterThan(-1);
    expect(build).toBeLessThan(firstSecret);
    for (const s of steps.filter(holds)) expect(s.run ?? '').not.toMatch(/npm (run|test)|build:tools|\btsc\b|npx|bundle/);
  });

  it('every npm ci runs without install scripts (issue 18: live.yml installed with scripts in the job holding the bootstrap key)', () => {
    const installs = files.flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split(/\r?\n/)
        .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
        .filter((x) => /\bnpm (ci|install|i)\b/.test(x.line)),
    );
    expect(installs.length).toBeGreaterThan(3);
    expect(installs.filter((x) => !x.line.includes('--ignore-scripts')).map((x) => x.where)).toEqual([]);
  });

  it('no step that holds a secret builds or installs anything (issue 27: live.yml compiled with the bootstrap key in its environment)', () => {
    const bad: string[] = [];
    for (const f of files) {
      const wf = parse(readFileSync(join(dir, f), 'utf8')) as { jobs: Record<string, { steps?: { name?: string; run?: string; env?: object; with?: object }[] }> };
      for (const [job, j] of Object.entries(wf.jobs))
        for (const st of j.steps ?? []) {
          const holds = /\$\{\{\s*secrets\./.test(JSON.stringify({ env: st.env, with: st.with }));
          // npm scripts may compile (test:live ran build:tools first); tsc, ncc and npx run code fetched or built here.
          if (holds && /\b(npm|npx|tsc|ncc)\b/.test(st.run ?? '')) bad.push(`${f}: job ${job}, step ${st.name ?? st.run}`);
        }
    }
    expect(bad).toEqual([]);
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

describe('code scanning, code owners and templates', () => {
  it('CodeQL analyses the TypeScript and the workflows, on pull requests, pushes to main and weekly; only it may write security events', () => {
    const wf = parse(readFileSync(join(dir, 'codeql.yml'), 'utf8')) as {
      on: Record<string, unknown>;
      permissions: object;
      jobs: Record<string, { permissions: Record<string, string>; strategy: { matrix: { language: string[] } }; steps: { uses?: string; with?: Record<string, string> }[] }>;
    };
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'schedule']);
    expect(wf.permissions).toEqual({});
    const job = wf.jobs.analyze!;
    expect(job.permissions).toEqual({ contents: 'read', 'security-events': 'write', actions: 'read' });
    expect(job.strategy.matrix.language.sort()).toEqual(['actions', 'javascript-typescript']);
    const uses = job.steps.map((st) => st.uses?.replace(/@.*/, ''));
    expect(uses).toEqual(['actions/checkout', 'github/codeql-action/init', 'github/codeql-action/analyze']);
    expect(job.steps[1]!.with!.config).toMatch(/paths-ignore:\n\s+- dist\n/);
    // No other workflow asks for security-events.
    for (const f of files.filter((x) => x !== 'codeql.yml')) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/security-events/);
  });

  it('CODEOWNERS gives every path an owner, and the code, dist/, action.yml and .github/ a second reviewer', () => {
    const rules = readFileSync('.github/CODEOWNERS', 'utf8').split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/));
    for (const [pattern, ...owners] of rules) {
      expect(owners.length, pattern).toBeGreaterThan(0);
      for (const o of owners) expect(o, pattern).toMatch(/^@[\w.-]+(\/[\w.-]+)?$/);
    }
    expect(rules[0]![0]).toBe('*');
    for (const p of ['/src/', '/dist/', '/action.yml', '/.github/']) expect(rules.find((r) => r[0] === p)?.length, p).toBeGreaterThanOrEqual(3);
  });

  it('issue forms: bug and feature are valid forms, blank issues are off, vulnerabilities are sent to private reporting', () => {
    const TYPES = new Set(['markdown', 'input', 'textarea', 'dropdown', 'checkboxes']);
    for (const f of ['bug.yml', 'feature.yml']) {
      const form = parse(readFileSync(join('.github/ISSUE_TEMPLATE', f), 'utf8')) as { name: string; description: string; body: { type: string; id?: string; attributes: Record<string, unknown> }[] };
      expect(form.name, f).toBeTruthy();
      expect(form.description, f).toBeTruthy();
      const ids = form.body.filter((b) => b.type !== 'markdown').map((b) => b.id);
      expect(new Set(ids).size, f).toBe(ids.length);
      for (const b of form.body) {
        expect(TYPES.has(b.type), `${f}: ${b.type}`).toBe(true);
        if (b.type !== 'markdown') expect(b.attributes.label, `${f}: ${b.id}`).toBeTruthy();
        if (b.type === 'dropdown') expect((b.attributes.options as string[]).length).toBeGreaterThan(1);
      }
    }
    expect(readFileSync('.github/ISSUE_TEMPLATE/bug.yml', 'utf8')).toMatch(/Never paste a token/);
    const config = parse(readFileSync('.github/ISSUE_TEMPLATE/config.yml', 'utf8')) as { blank_issues_enabled: boolean; contact_links: { url: string }[] };
    expect(config.blank_issues_enabled).toBe(false);
    expect(config.contact_links.map((l) => l.url)).toEqual(expect.arrayContaining([expect.stringMatching(/\/security\/advisories\/new$/)]));
  });

  it('the pull-request template asks for the checks CI runs', () => {
    const t = readFileSync('.github/pull_request_template.md', 'utf8');
    for (const check of ['npm test', 'lint:imports', 'npm run bundle', 'npm run docs', 'CHANGELOG.md']) expect(t).toContain(check);
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

describe('hygiene', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    license: string;
    engines: { node: string };
    devDependencies: Record<string, string>;
    optionalDependencies: Record<string, string>;
  };

  it('LICENSE is the MIT licence package.json names; SECURITY.md and CONTRIBUTING.md exist', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License\n/);
    expect(readFileSync('SECURITY.md', 'utf8')).toMatch(/Report a vulnerability/);
    expect(readFileSync('CONTRIBUTING.md', 'utf8')).toMatch(/## Releasing/);
  });

  it('engines, @types/node and the Node that npm scripts run on match the action runtime (node24)', () => {
    expect(readFileSync('action.yml', 'utf8')).toMatch(/using: 'node24'/);
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
    // Exact versions: the platform packages are the toolchain, pinned with integrity in the lock.
    for (const [name, v] of Object.entries(pkg.optionalDependencies)) {
      expect(name).toMatch(/^node-(linux|win|darwin)-/);
      expect(v).toMatch(/^24\.\d+\.\d+$/);
    }
    expect(pkg.devDependencies).not.toHaveProperty('node'); // its preinstall script fetched an unpinned package
  });

  it('no dependency in the lock needs an install script (npm ci --ignore-scripts leaves a working tree)', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean; integrity?: string; link?: boolean }> };
    const withScripts = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([k]) => k);
    expect(withScripts).toEqual([]);
    // Everything fetched from the registry is pinned by its integrity; a package of this repository (a file:
    // dependency such as shims/undici, whose node_modules entry is a link) is the repository's own source.
    const unpinned = Object.entries(lock.packages).filter(([k, p]) => k.startsWith('node_modules/') && !p.link && !p.integrity).map(([k]) => k);
    expect(unpinned).toEqual([]);
    const inRepo = Object.keys(lock.packages).filter((k) => k !== '' && !k.startsWith('node_modules/') && !k.includes('/node_modules/'));
    expect(inRepo).toEqual(['shims/undici']);
  });
});
