/**
 * Both factors ephemeral (issue 13), through the runner model against the emulator: with client-certificate-for-job
 * the job gets a token and a client certificate of the same user; Software Trust answers 200 with both in a later
 * step; after post the certificate is refused, the token is refused, a scope user is gone, RUNNER_TEMP holds nothing
 * new, and no byte the runner keeps holds the token, the PKCS#12 or its password.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import forge from 'node-forge';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanJob } from '../harness/leaks.js';
import type { RunnerJob, StepResult } from '../harness/runner.js';
import { softwareTrustStatus, statusWith, useTenant, type Tenant } from './support/emulator.js';

const env = useTenant();
let t: Tenant;
beforeAll(() => void (t = env.tenant));

const certsOf = (userId: string) => [...t.emu.model.clientCerts.values()].filter((c) => c.user_id === userId);

interface Factors {
  token: string;
  file: string;
  pfx: Buffer;
  password: string;
}

/** The public key of the certificate in the job's PKCS#12 file, read by OpenSSL (an independent reader). */
function publicKeyInPkcs12(f: Factors): string {
  const certs = spawnSync('openssl', ['pkcs12', '-in', f.file, '-nokeys', '-clcerts', '-passin', 'env:P12_PASSWORD'], { env: { ...process.env, P12_PASSWORD: f.password }, encoding: 'utf8' });
  expect(certs.status, certs.stderr).toBe(0);
  const pub = spawnSync('openssl', ['x509', '-pubkey', '-noout'], { input: certs.stdout, encoding: 'utf8' });
  expect(pub.status, pub.stderr).toBe(0);
  return createPublicKey(pub.stdout).export({ type: 'spki', format: 'pem' }).toString();
}

/** What a later step of the job gets, checked the way smctl would use it. */
async function factors(j: RunnerJob, main: StepResult): Promise<Factors> {
  expect(main.exitCode, main.log.join('\n')).toBe(0);
  const file = main.outputs['job-certificate-file']!;
  const password = main.outputs['job-certificate-password']!;
  expect(dirname(file)).toBe(j.runnerTemp);
  expect(password).toMatch(/^\S{20,}$/);
  // Owner-only, a new file (exclusive create, mode 0600; Windows has no such mode bits).
  if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  const f = { token: main.outputs.token!, file, pfx: readFileSync(file), password };
  // The password and the token are masked before anything could print them.
  expect(main.masks).toEqual(expect.arrayContaining([f.password, f.token]));
  return f;
}

/** After post: nothing of either factor works, nothing is on disk, no secret in anything the runner keeps. */
async function allGone(j: RunnerJob, f: Factors, userId: string): Promise<void> {
  expect(await statusWith(t.emu, f.token)).toBe(401);
  expect(await softwareTrustStatus(t.emu, f.token, f.pfx, f.password)).not.toBe(200);
  for (const c of certsOf(userId)) expect(c.enabled && t.emu.model.users.has(userId), `certificate ${c.id} still enabled`).toBe(false);
  expect(j.runnerTempFiles()).toEqual([]);
  const secrets = { minted: f.token, password: f.password, pfx: f.pfx.toString('base64').slice(0, 200), bootstrap: t.s.bootstrap.apiKey };
  const exported = j.inputs['export-env'] === 'true' ? ['minted', 'password'] : [];
  expect(scanJob(j, secrets, { allowInOutput: { token: 'minted', 'job-certificate-password': 'password' }, allowInEnv: exported })).toEqual([]);
}

describe('client-certificate-for-job: both factors for the job, both gone after it', () => {
  it('with scope: an ephemeral user with the Signer role, its token and its certificate; Software Trust answers 200 with both', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, scope: 'Software Trust: Signer', 'client-certificate-for-job': 'true' });
    const before = t.emu.requests.length;
    const main = await j.main();
    const f = await factors(j, main);
    const userId = main.outputs['ephemeral-user-id']!;
    // The certificate request went with the job's own token (the API issues it "for the authenticated user").
    const certReq = t.emu.requests.slice(before).find((r) => r.path.endsWith('/client-auth-certificate'))!;
    expect(certReq.tokenId).toBe(t.emu.model.findBySecret(f.token)!.id);
    expect(certsOf(userId)).toHaveLength(1);
    expect(await softwareTrustStatus(t.emu, f.token, f.pfx, f.password)).toBe(200);
    // Either factor alone is not enough.
    expect(await softwareTrustStatus(t.emu, t.s.bootstrap.apiKey, f.pfx, f.password)).toBe(401);

    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.log.some((l) => l.startsWith('Removed PKCS#12 file'))).toBe(true);
    expect(post.log.some((l) => l.startsWith('Disabled client authentication certificate'))).toBe(true);
    expect(t.emu.model.users.has(userId)).toBe(false);
    await allGone(j, f, userId);
  });

  it('with service-user-id: the certificate is disabled by post, the token revoked', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'client-certificate-for-job': 'true' });
    const main = await j.main();
    const f = await factors(j, main);
    expect(await softwareTrustStatus(t.emu, f.token, f.pfx, f.password)).toBe(200);
    expect(main.summary).toContain('client certificate');
    await j.post();
    await allGone(j, f, t.s.signer.id);
  });

  it('with an mTLS bootstrap and export-env: SM_CLIENT_CERT_FILE and SM_CLIENT_CERT_PASSWORD for smctl', async () => {
    const bootCert = t.emu.issueClientCert(t.s.bootstrap.user.id);
    const j = env.job({
      'client-certificate': bootCert.certPem + bootCert.keyPem,
      host: t.emu.host,
      'service-user-id': t.s.signer.id,
      'client-certificate-for-job': 'true',
      'export-env': 'true',
    });
    const main = await j.main();
    const f = await factors(j, main);
    expect(main.env).toMatchObject({ SM_API_KEY: f.token, SM_CLIENT_CERT_FILE: f.file, SM_CLIENT_CERT_PASSWORD: f.password, SM_HOST: `https://${t.emu.clientAuthHost}` });
    expect(await softwareTrustStatus(t.emu, f.token, f.pfx, f.password)).toBe(200);
    await j.post();
    await allGone(j, f, t.s.signer.id);
  });
});

describe('client-certificate-for-job: faults', () => {
  const job = () => env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'client-certificate-for-job': 'true', 'timeout-seconds': '20' });

  it.each([
    ['429 with Retry-After', { kind: 'status', status: 429, retryAfter: '1' }],
    ['503 with Retry-After', { kind: 'status', status: 503, retryAfter: '1' }],
  ] as const)('the certificate request answered %s: retried, then both factors', async (_what, fault) => {
    t.emu.fault({ method: 'POST', path: /client-auth-certificate$/, ...fault });
    const j = job();
    const main = await j.main();
    const f = await factors(j, main);
    expect(main.log.some((l) => l.includes('client-auth-certificate answered'))).toBe(true);
    await j.post();
    await allGone(j, f, t.s.signer.id);
  });

  it('the answer to the certificate request lost: requested again; the lost one is unusable (its key never left the job)', async () => {
    const before = certsOf(t.s.signer.id).length;
    t.emu.fault({ method: 'POST', path: /client-auth-certificate$/, kind: 'drop-after-commit' });
    const j = job();
    const main = await j.main();
    const f = await factors(j, main);
    expect(main.log.some((l) => l.includes('cannot be used (its private key never left this job), so it is requested again'))).toBe(true);
    expect(certsOf(t.s.signer.id).length - before).toBe(2);
    // A key is certified once (issue 18, finding 3): each request carried a CSR for a fresh key, and the key handed
    // out is the one of the answered request only, so the lost certificate (still enabled: its id was never seen)
    // certifies a key that never left the job.
    const csrKeys = t.emu.requests
      .filter((r) => r.method === 'POST' && r.path.endsWith('/client-auth-certificate'))
      .slice(-2)
      .map((r) => forge.pki.publicKeyToPem(forge.pki.certificationRequestFromPem((r.body as { csr: string }).csr).publicKey!).replace(/\r/g, ''));
    expect(new Set(csrKeys).size).toBe(2);
    expect(publicKeyInPkcs12(f)).toBe(createPublicKey(csrKeys[1]!).export({ type: 'spki', format: 'pem' }));
    await j.post();
    expect(await statusWith(t.emu, f.token)).toBe(401);
    expect(await softwareTrustStatus(t.emu, f.token, f.pfx, f.password)).not.toBe(200);
    expect(j.runnerTempFiles()).toEqual([]);
  });

  it('a 201 without the certificate: main fails, disables what it made, and post leaves nothing', async () => {
    t.emu.fault({ method: 'POST', path: /client-auth-certificate$/, kind: 'rewrite', body: (b) => ({ ...(b as object), certificate: '<html>no</html>' }) });
    const earlier = new Set(certsOf(t.s.signer.id).map((c) => c.id));
    const j = job();
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain('without the PEM certificate (certificate)');
    await j.post();
    const made = certsOf(t.s.signer.id).filter((c) => !earlier.has(c.id));
    expect(made).toHaveLength(1);
    expect(made[0]!.enabled).toBe(false);
    expect(await statusWith(t.emu, main.outputs.token ?? 'none')).toBe(401);
    expect(t.emu.model.liveTokens().filter((x) => x.name.startsWith('gha_'))).toEqual([]);
  });

  it('post when the file is already removed and the certificate already disabled: nothing fails, nothing left', async () => {
    const j = job();
    const main = await j.main();
    const f = await factors(j, main);
    const { rmSync } = await import('node:fs');
    rmSync(f.file);
    for (const c of certsOf(t.s.signer.id)) c.enabled = false;
    const post = await j.post();
    expect(post.exitCode).toBe(0);
    expect(post.annotations).toEqual([]);
    expect(post.log.some((l) => l.includes('was already deleted'))).toBe(true);
    await allGone(j, f, t.s.signer.id);
  });

  it('post without a bootstrap credential still removes the file, and says how to finish the rest', async () => {
    const j = job();
    const main = await j.main();
    await factors(j, main);
    // An expression that is empty in post (a secret from an environment that post cannot read).
    (j as unknown as { resolved: Record<string, string> }).resolved['api-key'] = '';
    const post = await j.post();
    expect(j.runnerTempFiles()).toEqual([]);
    expect(post.annotations.filter((a) => a.level === 'warning').length).toBeGreaterThan(0);
    t.emu.model.tokens.get(main.outputs['token-id']!)!.deleted = true;
  });

  it('a user whose end date is today, with the default lifetime: the error names lifetime-days, nothing is left', async () => {
    // The action reads the real clock in its own process; the emulator's is pinned to noon of `today`, so the user
    // stays active however long the test takes. Only the action's day can move on: if UTC midnight passes between
    // choosing `today` and the action's start (the suite also runs on a clock started at 23:58), its day is the next
    // one, and the lifetime-days: 0 run is made again for that day.
    const real = t.emu.model.clock;
    const utcDay = () => new Date().toISOString().slice(0, 10);
    let today = utcDay();
    t.emu.model.clock = () => new Date(`${today}T12:00:00Z`);
    const short = t.emu.model.addUser({ friendly_name: 'ends today', end_date: today, applications: [] });
    try {
      // The default lifetime ends tomorrow (or later, if midnight passed): past the user's end date either way.
      const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': short.id, 'client-certificate-for-job': 'true' });
      const main = await j.main();
      expect(main.exitCode).toBe(1);
      expect(main.log.find((l) => l.startsWith('Error:'))).toContain('lower lifetime-days (0 ends today at 23:59:59 UTC)');
      await j.post();
      expect(t.emu.model.liveTokens().filter((x) => x.user_id === short.id)).toEqual([]);
      // With lifetime-days: 0 both factors fit inside the user's last day.
      for (let attempt = 1; ; attempt++) {
        const k = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': short.id, 'client-certificate-for-job': 'true', 'lifetime-days': '0' });
        const kMain = await k.main();
        if (kMain.exitCode !== 0 && attempt === 1 && utcDay() !== today) {
          await k.post();
          today = utcDay();
          short.end_date = today;
          continue;
        }
        const f = await factors(k, kMain);
        await k.post();
        await allGone(k, f, short.id);
        break;
      }
    } finally {
      t.emu.model.clock = real;
      t.emu.model.users.delete(short.id);
    }
  });

  it('with skip-revoke: refused before anything is made, naming the input', async () => {
    const j = env.job({ 'api-key': t.s.bootstrap.apiKey, host: t.emu.host, 'service-user-id': t.s.signer.id, 'client-certificate-for-job': 'true', 'skip-revoke': 'true' });
    const before = t.emu.requests.length;
    const main = await j.main();
    expect(main.exitCode).toBe(1);
    expect(main.log.find((l) => l.startsWith('Error:'))).toContain("Input 'client-certificate-for-job': cannot go with skip-revoke: true");
    expect(t.emu.requests.length).toBe(before);
    await j.post();
  });
});
