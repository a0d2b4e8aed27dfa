import { describe, expect, it } from 'vitest';
import { InputError, certificateLoader, parseAuth, parseConfig, parseHost, secretInputValues } from '../src/runner/inputs.js';
import { loadClientCertificate } from '../src/keys/bootstrap-certificate.js';
import { makeCert, toP12Base64 } from '../emulator/pki.js';
import { loopbackSubdomainLookup } from '../src/platform/http.js';
import { maskSecret, secretParts } from '../src/platform/text-safety.js';
import { defaultTokenName, NAME_MAX_LENGTH, NAME_PATTERN, repoTokenPrefix, runIdOf } from '../src/credentials/naming.js';

const run = { repository: 'octo-org/release-tools', runId: '123', runAttempt: '2', job: 'sign' };
const now = new Date('2026-11-23T22:30:00Z');
const inputs = (o: Record<string, string>) => (name: string) => o[name] ?? '';
const base = { 'api-key': 'k3y-value', 'service-user-id': 'abc-123' };

function error(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('parseConfig', () => {
  it('defaults: production host, tomorrow as end date, revoke on, summary on', () => {
    const c = parseConfig(inputs(base), {}, run, now);
    expect(c).toMatchObject({
      host: 'one.digicert.com',
      baseUrl: 'https://one.digicert.com',
      endDate: '2026-11-24',
      exportEnv: false,
      cleanupStale: false,
      staleAfterHours: 24,
      expiryWarningDays: 14,
      expiryCheckAlways: false,
      step: { skipRevoke: false, jobSummary: true, timeoutSeconds: 60 },
    });
    expect(c.tokenName).toMatch(/^gha_octo-org_release-tools_123_2_sign_[0-9a-f]{6}$/);
  });

  it('lifetime-days is bounded and counts UTC days', () => {
    expect(parseConfig(inputs({ ...base, 'lifetime-days': '0' }), {}, run, now).endDate).toBe('2026-11-23');
    expect(parseConfig(inputs({ ...base, 'lifetime-days': '7' }), {}, run, now).endDate).toBe('2026-11-30');
    for (const bad of ['8', '-1', '1.5', 'two']) expect(error(() => parseConfig(inputs({ ...base, 'lifetime-days': bad }), {}, run, now)).input).toBe('lifetime-days');
  });

  it('the host is the host input or the default, never DC_BASE (the job environment decides nothing about where the key goes)', () => {
    expect(parseConfig(inputs({ ...base, host: 'demo.one.digicert.com' }), { DC_BASE: 'https://one.nl.digicert.com' }, run, now).host).toBe('demo.one.digicert.com');
    // Not even DigiCert ONE's own hosts (issue 18): another region or demo would still be the environment's choice.
    for (const other of ['https://one.nl.digicert.com/', 'https://demo.one.digicert.com', 'https://evil.example', 'ftp://x']) {
      expect(parseConfig(inputs(base), { DC_BASE: other }, run, now).host, other).toBe('one.digicert.com');
    }
  });

  it('errors name the input and never repeat the secret', () => {
    const secret = 'sup3r secret';
    const e = error(() => parseConfig(inputs({ ...base, 'api-key': secret }), {}, run, now));
    expect(e.input).toBe('api-key');
    expect(e.message).not.toContain('sup3r');
    expect(error(() => parseConfig(inputs({ ...base, 'service-user-id': '../../user' }), {}, run, now)).input).toBe('service-user-id');
    expect(error(() => parseConfig(inputs({ ...base, 'token-name-prefix': 'a/b' }), {}, run, now)).input).toBe('token-name-prefix');
    expect(error(() => parseConfig(inputs({ ...base, 'skip-revoke': 'maybe' }), {}, run, now)).message).toBe("Input 'skip-revoke': expected true or false, got 'maybe'.");
    expect(error(() => parseConfig(inputs({ ...base, 'timeout-seconds': '0' }), {}, run, now)).message).toContain("Input 'timeout-seconds': expected a whole number from 1 to 600");
    // Inputs that only mean something with scope are refused without it rather than ignored.
    expect(error(() => parseConfig(inputs({ ...base, 'service-user-email': 'ci@example.com' }), {}, run, now)).message).toContain("Input 'service-user-email': applies only with scope");
    expect(error(() => parseConfig(inputs({ ...base, accounts: 'acct-main' }), {}, run, now)).message).toContain("Input 'accounts': applies only with scope");
    expect(error(() => parseConfig(inputs({ ...base, 'stale-after-hours': '48' }), {}, run, now)).message).toContain("Input 'stale-after-hours': applies only with cleanup-stale: true");
    expect(parseConfig(inputs({ ...base, 'cleanup-stale': 'true', 'stale-after-hours': '48' }), {}, run, now).staleAfterHours).toBe(48);
  });
});

describe('parseHost', () => {
  it.each([
    ['one.digicert.com', 'one.digicert.com'],
    ['HTTPS://Demo.One.DigiCert.com/', 'demo.one.digicert.com'],
    ['127.0.0.1:8443', '127.0.0.1:8443'],
    [' one.digicert.co.jp ', 'one.digicert.co.jp'],
  ])('%s → %s', (raw, host) => expect(parseHost(raw, 'host')).toBe(host));

  it.each(['http://one.digicert.com', 'one.digicert.com/account', 'user@one.digicert.com', 'one..digicert.com', 'x:99999', 'clientauth.one.digicert.com', ''])('refuses %j', (raw) => {
    expect(() => parseHost(raw, 'host')).toThrow(InputError);
  });

  it('with a client certificate, drops a clientauth. prefix the user wrote (the action adds it)', () => {
    expect(parseHost('clientauth.one.digicert.com', 'host', 'client-cert')).toBe('one.digicert.com');
    expect(parseHost('https://clientauth.demo.one.nl.digicert.com:8443/', 'host', 'client-cert')).toBe('demo.one.nl.digicert.com:8443');
    expect(parseHost('one.digicert.com', 'host', 'client-cert')).toBe('one.digicert.com');
    expect(() => parseHost('clientauth.one.digicert.com', 'host', 'api-key')).toThrow("with api-key give the host without 'clientauth.'");
  });
});

describe('parseAuth: exactly one bootstrap credential', () => {
  const pair = makeCert({ commonName: 'unit', clientAuth: true });
  const p12 = toP12Base64(pair, 'pw');

  it('none, or both, names both inputs', () => {
    expect(error(() => parseAuth(inputs({}), now)).message).toMatch(/^Inputs 'api-key' and 'client-certificate': one is required/);
    expect(error(() => parseAuth(inputs({ 'api-key': 'k', 'client-certificate': p12 }), now)).message).toMatch(/^Inputs 'api-key' and 'client-certificate': are both set/);
  });

  it('certificate-only inputs next to api-key are refused rather than ignored', () => {
    expect(error(() => parseAuth(inputs({ 'api-key': 'k', 'client-certificate-password': 'pw' }), now)).message).toBe(
      "Input 'client-certificate-password': belongs to client-certificate, which is empty; with api-key leave it out.",
    );
  });

  it('a client certificate gives a client-cert auth with in-memory TLS options; the config host stays plain', () => {
    const c = parseConfig(inputs({ 'client-certificate': p12, 'client-certificate-password': 'pw', 'service-user-id': 'abc-123', host: 'clientauth.demo.one.digicert.com' }), {}, run, new Date(), loadClientCertificate);
    expect(c.host).toBe('demo.one.digicert.com');
    expect(c.baseUrl).toBe('https://demo.one.digicert.com');
    expect(c.certificateExpiryWarningDays).toBe(30);
    if (c.auth.kind !== 'client-cert') throw new Error('expected client-cert');
    expect(c.auth.tls.pfx).toBeInstanceOf(Buffer);
    expect(c.auth.tls.passphrase).toBe('pw');
    expect(c.auth.certificate).toMatchObject({ format: 'pkcs12', subject: 'CN=unit, O=d1-token-action emulator' });
    expect(error(() => parseConfig(inputs({ 'client-certificate': p12, 'client-certificate-password': 'pw', 'service-user-id': 'abc-123', 'client-certificate-expiry-warning-days': 'soon' }), {}, run, new Date(), loadClientCertificate)).input).toBe(
      'client-certificate-expiry-warning-days',
    );
  });

  it('the certificate code is loaded only when client-certificate is set, and parseAuth will not go on without it', async () => {
    expect(await certificateLoader(inputs({ 'api-key': 'k' }))).toBeUndefined();
    expect(await certificateLoader(inputs({ 'client-certificate': p12 }))).toBe(loadClientCertificate);
    expect(() => parseAuth(inputs({ 'client-certificate': p12, 'client-certificate-password': 'pw' }), now)).toThrow(/client certificate code was not loaded/);
  });

  it('no error repeats the password or any line of the key', () => {
    const secretPw = 'Sekr1t-password-value';
    const messages = [
      error(() => parseAuth(inputs({ 'client-certificate': p12, 'client-certificate-password': secretPw }), now, loadClientCertificate)).message,
      error(() => parseAuth(inputs({ 'client-certificate': pair.certPem, 'client-key': `${pair.keyPem}garbage` }), new Date('2000-01-01'), loadClientCertificate)).message,
      error(() => parseAuth(inputs({ 'client-certificate': pair.keyPem }), now, loadClientCertificate)).message,
    ];
    for (const m of messages) {
      expect(m).not.toContain(secretPw);
      for (const line of pair.keyPem.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) expect(m).not.toContain(line);
    }
  });

  it('secretInputValues: every secret input, and a line-wrapped base64 value joined', () => {
    const wrapped = p12.replace(/.{64}/g, '$&\n');
    const values = secretInputValues(inputs({ 'api-key': 'k3y', 'client-certificate': wrapped, 'client-key': pair.keyPem, 'client-certificate-password': 'pw', host: 'h' }));
    expect(values).toEqual(['k3y', wrapped, p12, pair.keyPem, 'pw']);
  });
});

describe('secrets', () => {
  it('masks a PEM value line by line, but not its -----BEGIN/END----- armour', () => {
    const masked: string[] = [];
    maskSecret(pair().keyPem, (v) => masked.push(v));
    expect(masked.some((m) => m.startsWith('-----BEGIN'))).toBe(true); // the whole value
    expect(masked).not.toContain('-----BEGIN PRIVATE KEY-----');
    expect(masked).not.toContain('-----END PRIVATE KEY-----');
    expect(secretParts('a\nbcdefgh\n-----END X-----')).toEqual(['a\nbcdefgh\n-----END X-----', 'bcdefgh']);
  });
  function pair() {
    return makeCert({ commonName: 'mask', clientAuth: true });
  }
});

describe('loopbackSubdomainLookup (RFC 6761: names under localhost are loopback)', () => {
  const resolve = (name: string, options: object) =>
    new Promise<unknown>((ok, fail) => loopbackSubdomainLookup(name, options, (err: Error | null, address: unknown, family?: number) => (err ? fail(err) : ok(family === undefined ? address : [address, family]))));

  it('resolves clientauth.localhost to loopback, in both callback shapes', async () => {
    expect(await resolve('clientauth.localhost', {})).toEqual(['127.0.0.1', 4]);
    expect(await resolve('clientauth.localhost', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(await resolve('Clientauth.LOCALHOST', { family: 6 })).toEqual(['::1', 6]);
  });

  it('leaves every other name to the system resolver', async () => {
    expect(await resolve('127.0.0.1', {})).toEqual(['127.0.0.1', 4]);
    await expect(resolve('clientauth.localhost.invalid', {})).rejects.toThrow();
  });
});

describe('defaultTokenName', () => {
  it('keeps ids and the random tail whole, fits the length, uses only allowed characters', () => {
    const long = { repository: 'an-organisation-with-a-very-long-name/and.a.repository_with.dots-and-length', runId: '12345678901', runAttempt: '3', job: 'build-and-sign-every-artifact-for-release' };
    const name = defaultTokenName(long, 'abcdef');
    expect(name.length).toBeLessThanOrEqual(NAME_MAX_LENGTH);
    expect(name).toMatch(NAME_PATTERN);
    expect(name).toMatch(/^gha_an-organisation_and-a-repository-wit_12345678901_3_bu_abcdef$/);
  });

  it('starts with a prefix fixed per repository, whatever the job, and its run id reads back', () => {
    const a = defaultTokenName({ ...run, job: 'a' });
    const b = defaultTokenName({ ...run, runId: '999', job: 'a-much-longer-job-name-that-gets-cut-somewhere-along-the-way' });
    expect(a.startsWith(repoTokenPrefix(run.repository))).toBe(true);
    expect(b.startsWith(repoTokenPrefix(run.repository))).toBe(true);
    expect(runIdOf(b, run.repository)).toBe('999');
    expect(runIdOf(b, 'octo-org/other')).toBeUndefined();
    expect(runIdOf('gha_octo-org_release-tools_by-hand', run.repository)).toBeUndefined();
  });

  it('differs between two steps of the same job (matrix legs share GITHUB_JOB)', () => {
    expect(defaultTokenName(run)).not.toBe(defaultTokenName(run));
  });
});
