/**
 * `npm run broker -- …` (scripts/broker.ts) and `npm run demo -- …` (scripts/demo.ts): arguments parsed strictly
 * (an unknown option: the usage and exit 2; `--brokr` must not run the plain demo); `explain` prints the decision
 * claim by claim for a policy written from docs/broker.md alone; `--emulator --policy` runs the user's policy.
 * Run from source in child processes, as a user runs them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import { USAGE, explain, parseBrokerArgs, readClaims } from '../scripts/broker.js';
import { DEMO_USAGE, parseDemoArgs } from '../scripts/demo-args.js';
import { hasSqlite } from './support/broker.js';

const LOADER = pathToFileURL(join(process.cwd(), '__tests__', 'support', 'ts-loader.mjs')).href;
const script = (file: string, args: string[]) => spawnSync(process.execPath, ['--import', LOADER, file, ...args], { encoding: 'utf8', timeout: 30_000 });
const dir = mkdtempSync(join(tmpdir(), 'd1-broker-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The policy example of docs/broker.md, as a reader would copy it. */
const documentedPolicy = (): { policies: { name: string; match: Record<string, unknown> }[] } => {
  const text = readFileSync('docs/broker.md', 'utf8');
  const block = [...text.matchAll(/^```json\n([\s\S]*?)^```/gm)].map((m) => m[1]!).find((b) => b.includes('"policies"'))!;
  return JSON.parse(block) as { policies: { name: string; match: Record<string, unknown> }[] };
};
const claims = {
  repository_id: '123456789',
  repository_owner_id: '987654',
  repository: 'octo-org/release-tools',
  ref: 'refs/heads/main',
  event_name: 'push',
  job_workflow_ref: 'octo-org/release-tools/.github/workflows/release.yml@refs/heads/main',
};

describe('the command lines refuse what they do not know', () => {
  it('demo: --brokr (a typo) prints the usage and exits 2, running nothing; --help prints it and exits 0', () => {
    expect(() => parseDemoArgs(['--brokr'])).toThrow("Unknown option '--brokr'");
    expect(() => parseDemoArgs(['--mtls', '--broker'])).toThrow('choose one of --mtls, --broker');
    expect(parseDemoArgs(['--broker', '--replicas', '2'])).toEqual({ help: false, mode: 'broker', replicas: 2 });
    expect(() => parseDemoArgs(['--replicas', '2'])).toThrow('--replicas goes with --broker');
    expect(() => parseDemoArgs(['--broker', '--replicas', '9'])).toThrow("--replicas takes 2 to 4, not '9'");
    expect(parseDemoArgs(['--sign'])).toEqual({ help: false, mode: 'sign' });
    const r = script('scripts/demo.ts', ['--brokr']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: Unknown option '--brokr'\n\n${DEMO_USAGE}`);
    expect(r.stdout).not.toContain('emulator');
    const h = script('scripts/demo.ts', ['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toBe(DEMO_USAGE);
  });

  it('broker: --help prints the usage; an unknown option or command is exit 2 with the usage', () => {
    const h = script('scripts/broker.ts', ['--help']);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toBe(USAGE);
    for (const args of [['--bogus'], ['explian'], ['explain', '--policy', 'p.json']]) {
      const r = script('scripts/broker.ts', args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toContain(USAGE);
    }
    expect(parseBrokerArgs(['--config', 'b.json'])).toEqual({ command: 'run', config: 'b.json', checkConfig: false });
    expect(() => parseBrokerArgs(['--config', 'b.json', '--policy', 'p.json'])).toThrow('--policy and --claims go with --emulator or explain');
  });
});

describe('npm run broker -- explain', () => {
  it('decides claim by claim on the policy of docs/broker.md, with the policy module\'s own functions', async () => {
    const granted = await explain(documentedPolicy(), claims, 'release-signing');
    expect(granted.granted).toEqual(['release-signing']);
    expect(granted.text).toContain("policy 'release-signing': GRANTED");
    expect(granted.text).toContain('ok   ref: expected refs/heads/main or refs/tags/v*; token has refs/heads/main');
    expect(granted.text).toContain('grants an API token for service user 5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a');
    const refused = await explain(documentedPolicy(), { ...claims, ref: 'refs/heads/feature' });
    expect(refused.granted).toEqual([]);
    expect(refused.text).toContain('FAIL ref: expected refs/heads/main or refs/tags/v*; token has refs/heads/feature');
    expect(refused.text).toContain("policy 'nightly-scoped': REFUSED");
    expect(refused.text).toContain('FAIL environment: expected nightly; token has none');
  });

  it('from files: a JWT or its payload; exit 0 when a policy grants, 1 when none does', () => {
    const policy = join(dir, 'my-policy.json');
    writeFileSync(policy, JSON.stringify(documentedPolicy()));
    const jwt = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
    expect(readClaims(jwt)).toEqual(claims);
    writeFileSync(join(dir, 'claims.jwt'), jwt);
    const ok = script('scripts/broker.ts', ['explain', '--policy', policy, '--claims', join(dir, 'claims.jwt'), '--name', 'release-signing']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("policy 'release-signing': GRANTED");
    writeFileSync(join(dir, 'claims.json'), JSON.stringify({ ...claims, repository_id: '1' }));
    const no = script('scripts/broker.ts', ['explain', '--policy', policy, '--claims', join(dir, 'claims.json')]);
    expect(no.status).toBe(1);
    expect(no.stdout).toContain('FAIL repository_id: expected 123456789; token has 1');
  });
});

/** One HTTPS request trusting `ca`; the JSON answer. */
function call(url: string, ca: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => void (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!hasSqlite)('npm run broker -- --emulator --policy my-policy.json', () => {
  it("runs the local world with the user's policy: a job with the given claims gets the credential the policy grants", async () => {
    const policy = join(dir, 'emulator-policy.json');
    writeFileSync(policy, JSON.stringify(documentedPolicy()));
    writeFileSync(join(dir, 'job-claims.json'), JSON.stringify({ ...claims, sub: 'repo:octo-org/release-tools:ref:refs/heads/main', run_id: '7', run_attempt: '1' }));
    const child = spawn(process.execPath, ['--import', LOADER, 'scripts/broker.ts', '--emulator', '--policy', policy, '--claims', join(dir, 'job-claims.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => void (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (out += s));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no world within 60 s: ${out}`)), 60_000);
        child.stdout.on('data', () => {
          if (!out.includes('Ctrl-C stops all three')) return;
          clearTimeout(t);
          resolve();
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      expect(out).toContain(`policy: ${policy}`);
      expect(out).toContain('service users made in the emulator for it (Software Trust Signer role): 5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a (policy release-signing)');
      const pick = (re: RegExp) => re.exec(out)![1]!;
      const ca = readFileSync(pick(/CA of all three: (\S+)/), 'utf8');
      const url = pick(/ACTIONS_ID_TOKEN_REQUEST_URL='([^']+)'/);
      const requestToken = pick(/ACTIONS_ID_TOKEN_REQUEST_TOKEN='([^']+)'/);
      const broker = pick(/ on (https:\/\/localhost:\d+), audience/);
      const audience = pick(/audience (\S+)\n/);
      const idToken = (await call(`${url}&audience=${encodeURIComponent(audience)}`, ca, { authorization: `bearer ${requestToken}` })).body.value as string;
      const res = await call(`${broker}/v1/credentials`, ca, { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' }, JSON.stringify({ policy: 'release-signing', lease: 'cli-test-lease-00001' }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ kind: 'api-token', userId: '5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a' });
    } finally {
      child.kill('SIGTERM');
    }
  }, 90_000);
});
