import { describe, expect, it } from 'vitest';
import { InputError, parseConfig, parseHost } from '../src/inputs.js';
import { defaultTokenName, NAME_MAX_LENGTH, NAME_PATTERN, repoTokenPrefix, runIdOf } from '../src/naming.js';

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
      step: { skipRevoke: false, jobSummary: true, timeoutSeconds: 60 },
    });
    expect(c.tokenName).toMatch(/^gha_octo-org_release-tools_123_2_sign_[0-9a-f]{6}$/);
  });

  it('lifetime-days is bounded and counts UTC days', () => {
    expect(parseConfig(inputs({ ...base, 'lifetime-days': '0' }), {}, run, now).endDate).toBe('2026-11-23');
    expect(parseConfig(inputs({ ...base, 'lifetime-days': '7' }), {}, run, now).endDate).toBe('2026-11-30');
    for (const bad of ['8', '-1', '1.5', 'two']) expect(error(() => parseConfig(inputs({ ...base, 'lifetime-days': bad }), {}, run, now)).input).toBe('lifetime-days');
  });

  it('host input wins over DC_BASE, which wins over the default', () => {
    expect(parseConfig(inputs({ ...base, host: 'demo.one.digicert.com' }), { DC_BASE: 'https://one.nl.digicert.com' }, run, now).host).toBe('demo.one.digicert.com');
    expect(parseConfig(inputs(base), { DC_BASE: 'https://one.nl.digicert.com/' }, run, now).host).toBe('one.nl.digicert.com');
    expect(error(() => parseConfig(inputs(base), { DC_BASE: 'ftp://x' }, run, now)).message).toContain("Input 'host (from DC_BASE)'");
  });

  it('errors name the input and never repeat the secret', () => {
    const secret = 'sup3r secret';
    const e = error(() => parseConfig(inputs({ ...base, 'api-key': secret }), {}, run, now));
    expect(e.input).toBe('api-key');
    expect(e.message).not.toContain('sup3r');
    expect(error(() => parseConfig(inputs({ ...base, 'service-user-id': '../../user' }), {}, run, now)).input).toBe('service-user-id');
    expect(error(() => parseConfig(inputs({ ...base, 'token-name': 'a/b' }), {}, run, now)).input).toBe('token-name');
    expect(error(() => parseConfig(inputs({ ...base, 'skip-revoke': 'maybe' }), {}, run, now)).message).toBe("Input 'skip-revoke': expected true or false, got 'maybe'.");
    expect(error(() => parseConfig(inputs({ ...base, 'timeout-seconds': '0' }), {}, run, now)).message).toContain("Input 'timeout-seconds': expected a whole number from 1 to 600");
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
