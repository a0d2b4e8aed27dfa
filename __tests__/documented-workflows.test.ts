/**
 * Every documented workflow runs: each workflow under examples/ and .github/workflows/example-*.yml, and every
 * ```yaml block of the README and of docs/*.md that uses this action, has this action's step run through the runner model (main,
 * then post, with action.yml defaults applied) against the emulator. Other steps are not run.
 *
 * What the test changes in a snippet, and only this: `${{ secrets.X }}` / `${{ vars.X }}` / `${{ runner.temp }}`
 * are filled from the table below (an unknown name fails, so a new example forces an update), and the host is the
 * emulator's: a `host:` input is replaced by it; a snippet without one targets the default host (one.digicert.com),
 * for which the emulator stands in as the host input (the environment never chooses the host: see parseTargetHost).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toP12Base64 } from '../emulator/pki.js';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';
import { statusWith, useTenant, type Tenant } from './support/emulator.js';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  [k: string]: unknown;
}
interface Workflow {
  env?: Record<string, unknown>;
  jobs: Record<string, { env?: Record<string, unknown>; steps: Step[] }>;
}

/** This action, as a user (`owner/d1-token-action@ref`) or this repository (`./`) names it. */
const isThisAction = (uses: unknown): boolean => uses === './' || /(^|\/)d1-token-action@/.test(String(uses ?? ''));

interface Use {
  source: string;
  step: Step;
  /** workflow `env:` then job `env:` (the runner sends both as the job's environment). */
  jobEnv: Record<string, unknown>;
}

/** Steps of this action in a workflow, a list of steps, or a single step (README fragments are indented steps). */
function usesIn(source: string, text: string): Use[] {
  const doc = parse(text) as unknown;
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'jobs' in doc) {
    const wf = doc as Workflow;
    return Object.values(wf.jobs).flatMap((job) =>
      job.steps.filter((s) => isThisAction(s.uses)).map((step) => ({ source, step, jobEnv: { ...wf.env, ...job.env } })),
    );
  }
  const steps = (Array.isArray(doc) ? doc : [doc]) as Step[];
  return steps.filter((s) => s && typeof s === 'object' && isThisAction(s.uses)).map((step) => ({ source, step, jobEnv: {} }));
}

function documented(): Use[] {
  const files = [
    ...readdirSync('examples').filter((f) => /\.ya?ml$/.test(f)).map((f) => join('examples', f)),
    ...readdirSync('.github/workflows').filter((f) => /^example-.*\.ya?ml$/.test(f)).map((f) => join('.github/workflows', f)),
  ];
  // Workflows with broker-url need the broker and the OIDC issuer: broker-e2e.test.ts runs them.
  const uses = files.filter((f) => !readFileSync(f, 'utf8').includes('broker-url:')).flatMap((f) => usesIn(f, readFileSync(f, 'utf8')));
  const pages = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    for (const b of text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      const line = text.slice(0, b.index).split('\n').length;
      // Snippets with broker-url need the broker and the OIDC issuer: broker-e2e.test.ts runs every one of them.
      if (/d1-token-action@|uses:\s*\.\/\s*$/m.test(b[1]!) && !b[1]!.includes('broker-url:')) uses.push(...usesIn(`${page.replace(/\\/g, '/')}:${line}`, b[1]!));
    }
  }
  return uses;
}

const all = documented();
const tenantEnv = useTenant();
let t: Tenant;
const p12Password = 'Pw-4-the-P12!shown-once';
let values: Record<string, string>;

beforeAll(() => {
  t = tenantEnv.tenant;
  const pair = t.emu.issueClientCert(t.s.bootstrap.user.id);
  values = {
    'secrets.D1_BOOTSTRAP_TOKEN': t.s.bootstrap.apiKey,
    'secrets.D1_CLIENT_P12_BASE64': toP12Base64(pair, p12Password),
    'secrets.D1_CLIENT_P12_PASSWORD': p12Password,
    'vars.D1_SERVICE_USER_ID': t.s.signer.id,
    'vars.D1_SIGNER_USER_ID': t.s.signer.id,
    'vars.D1_SIGNER_SERVICE_USER_ID': t.s.signer.id,
    'vars.D1_ACCOUNT_ID': 'acct-main',
    // The scenario's keypair, assigned to the signer service user (emulator/scenario.ts).
    'vars.SM_KEYPAIR_ALIAS': KEYPAIR_ALIAS,
    'runner.temp': '/tmp/runner-temp',
  };
});

/** Fills `${{ name }}` from the table; any other expression fails with every unknown name listed. */
function fill(map: Record<string, unknown>, where: string): { values: Record<string, string>; secrets: string[] } {
  const unknown: string[] = [];
  const secrets: string[] = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    // The runner hands YAML scalars over as their text: `cleanup-stale: true` arrives as "true".
    out[k] = String(v).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, name: string) => {
      if (!(name in values)) {
        unknown.push(name);
        return '';
      }
      if (name.startsWith('secrets.')) secrets.push(values[name]!);
      return values[name]!;
    });
  }
  if (unknown.length) throw new Error(`${where}: no emulator value for ${unknown.join(', ')}; add it to the table in this test`);
  return { values: out, secrets };
}

describe('documented workflows run through the runner model', () => {
  it('finds every example workflow and README snippet that uses the action', () => {
    const sources = [...new Set(all.map((u) => u.source.replace(/:\d+$/, '')))];
    expect(sources).toEqual(expect.arrayContaining(['examples/basic.yml', 'examples/mtls-bootstrap.yml', 'examples/release-signing-smctl.yml', 'examples/release-signing-windows.yml', 'examples/scoped-credential.yml', '.github/workflows/example-release.yml', 'README.md']));
    // Every signing example and README signing snippet runs with the keypair check on.
    const signing = all.filter((u) => String(u.step.with?.['client-certificate-for-job']) === 'true');
    expect(signing.map((u) => u.source.replace(/:\d+$/, ''))).toEqual(expect.arrayContaining(['examples/release-signing-smctl.yml', 'examples/release-signing-windows.yml', 'README.md']));
    for (const u of signing) expect(u.step.with?.['keypair-alias'], u.source).toBeTruthy();
    expect(all.filter((u) => u.source.startsWith('README.md')).length).toBeGreaterThanOrEqual(3);
    expect(all.filter((u) => u.source.startsWith('docs/usage.md')).length).toBeGreaterThanOrEqual(3);
  });

  it('a snippet naming a secret or variable the table lacks fails with every unknown name', () => {
    const [use] = usesIn('new.md', '      - uses: ./\n        with:\n          api-key: ${{ secrets.NEW_ONE }}\n          scope: ${{ vars.OTHER }}\n');
    expect(() => fill(use!.step.with ?? {}, use!.source)).toThrow('new.md: no emulator value for secrets.NEW_ONE, vars.OTHER; add it to the table in this test');
  });

  it.each(all.map((u) => [u.source, u] as const))('%s: main and post succeed, and the credential is dead afterwards', async (_source, use) => {
    const inputs = fill(use.step.with ?? {}, use.source);
    const stepEnv = fill(use.step.env ?? {}, use.source);
    const jobEnv = fill(use.jobEnv, use.source);
    inputs.values.host = t.emu.host;
    // The runner masks every secret the workflow references from the start of the job.
    const secrets = [...inputs.secrets, ...stepEnv.secrets, ...jobEnv.secrets];
    const j = tenantEnv.job(inputs.values, jobEnv.values, { stepEnv: stepEnv.values, secrets });

    const requestsBefore = t.emu.requests.length;
    const tokensBefore = t.emu.model.tokens.size;
    const usersBefore = t.emu.model.users.size;
    const main = await j.main();
    expect(main.outcome, main.log.join('\n')).toBe('success');
    expect(main.annotations, 'no warning or error with the defaults').toEqual([]);
    if (inputs.values.preflight === 'true') {
      // A preflight step checks and makes nothing: no token, no user, nothing for post to revoke.
      expect(main.outputs.token).toBeUndefined();
      expect([t.emu.model.tokens.size, t.emu.model.users.size]).toEqual([tokensBefore, usersBefore]);
      const post = await j.post();
      expect(post.outcome, post.log.join('\n')).toBe('success');
      expect(post.log).toContain('Nothing to revoke: the main step did not mint a token.');
      return;
    }
    const token = main.outputs.token!;
    expect(token).toBeTruthy();
    expect(await statusWith(t.emu, token)).toBe(200);
    if (inputs.values['keypair-alias']) {
      // The keypair check ran, with the minted token and the job's certificate of the same user, and passed.
      expect(main.outputs['keypair-id']).toBe(t.s.keypair.id);
      const check = t.emu.requests.slice(requestsBefore).filter((r) => r.path === '/signingmanager/api/v1/keypairs');
      expect(check).toEqual([expect.objectContaining({ query: `?alias=${inputs.values['keypair-alias']}`, hadApiKey: true, clientCertUser: main.outputs['user-id'], status: 200 })]);
    }

    const post = await j.post();
    expect(post.outcome, post.log.join('\n')).toBe('success');
    expect(await statusWith(t.emu, token)).toBe(401);
    expect(t.emu.model.findBySecret(token)?.deleted).toBe(true);
    if (main.outputs['ephemeral-user-id']) expect(t.emu.model.users.has(main.outputs['ephemeral-user-id'])).toBe(false);
    if (inputs.values['client-certificate-for-job'] === 'true') {
      // The second factor too: its file is gone (RUNNER_TEMP is checked after each test) and no certificate of the user works.
      expect(main.outputs['job-certificate-file']).toBeTruthy();
      const user = main.outputs['user-id']!;
      expect([...t.emu.model.clientCerts.values()].filter((c) => c.user_id === user && c.enabled && t.emu.model.users.has(user))).toEqual([]);
    }
  });
});
