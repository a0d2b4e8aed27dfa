/** The one boundary for DigiCert ONE's answers: every value parsed into a typed, bounded value, or dropped. */
import { describe, expect, it } from 'vitest';
import {
  parseCreatedServiceUser,
  parseCreatedToken,
  parseId,
  parseKeypair,
  parseKeypairAlias,
  parseName,
  parseRetryAfter,
  parseServerError,
  parseTokenItem,
  parseUser,
  parseUtcDay,
} from '../src/d1/wire.js';
import { logSafe } from '../src/platform/text-safety.js';
import { code, plain } from '../src/runner/summary.js';
import { redact, secretForms } from '../src/platform/text-safety.js';

const HOSTILE = 'x\n::warning file=a.ts::forged\r\n##[stop-commands]zz [evil](https://evil.example) <img src=x>';

describe('values', () => {
  it('ids: safe in a URL path and a log line, or nothing', () => {
    expect(parseId('5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a')).toBe('5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a');
    expect(parseId(42)).toBe('42');
    for (const bad of ['', '.', '..', '../user/x', 'a/b', 'a b', 'a%2Fb', 'x'.repeat(129), HOSTILE, null, {}, -1, 1.5]) expect(parseId(bad), String(bad)).toBeUndefined();
  });

  it('names: the documented character set only', () => {
    expect(parseName('gha_octo_repo_1_1_job_abcdef')).toBe('gha_octo_repo_1_1_job_abcdef');
    for (const bad of ['', '   ', 'a.b', 'a\nb', HOSTILE, 'x'.repeat(257), 7]) expect(parseName(bad), String(bad)).toBeUndefined();
  });

  it('dates: strict YYYY-MM-DD or an ISO date-time reduced to its UTC day; anything else is unknown', () => {
    expect(parseUtcDay('2026-11-24')).toBe('2026-11-24');
    expect(parseUtcDay('2026-11-24T23:30:00-02:00')).toBe('2026-11-25');
    expect(parseUtcDay('2026-11-24T10:00:00.123Z')).toBe('2026-11-24');
    for (const bad of ['1795564799000', 1795564799000, '11/24/2026', '2026-02-30', '2026-11-24T10:00:00', 'tomorrow', HOSTILE]) expect(parseUtcDay(bad), String(bad)).toBeUndefined();
  });

  it('Retry-After: seconds or an IMF date, never its text', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('##[stop-commands]zz', 0)).toBeUndefined();
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:05 GMT', Date.parse('2026-11-23T12:00:00Z'))).toBe(5000);
  });
});

describe('answers', () => {
  it('a created token: id, secret and end date parsed; a hostile end date is unknown', () => {
    expect(parseCreatedToken({ id: 't1', token: 'abcdefgh12', end_date: '11/24/2026' })).toEqual({ id: 't1', secret: 'abcdefgh12', endDate: undefined });
    expect(parseCreatedToken({ id: '../x', token: 'has space inside' })).toEqual({ id: undefined, secret: undefined, endDate: undefined });
    expect(parseCreatedServiceUser({ user_id: 'u1', api_token: { token: 'abcdefgh12' } }).secret).toBe('abcdefgh12');
  });

  it('listings drop what cannot be acted on and keep no hostile name', () => {
    expect(parseTokenItem({ id: 't1', name: HOSTILE, created_at: HOSTILE, end_date: HOSTILE })).toEqual({ id: 't1', name: undefined, endDate: undefined, createdAt: undefined });
    expect(parseTokenItem({ id: HOSTILE, name: 'ok' })).toBeUndefined();
  });

  it('a user: permissions are codes, a hostile status is dropped', () => {
    const u = parseUser({ id: 'me1', status: HOSTILE, applications: [{ permissions: ['SIGN_SM_HASH', HOSTILE, 3] }] });
    expect(u).toEqual({ id: 'me1', userType: undefined, status: undefined, endDate: undefined, primaryAccountId: undefined, permissions: ['SIGN_SM_HASH'] });
  });

  it('errors: both documented shapes; the message keeps no control character and is not cut before scrubbing', () => {
    expect(parseServerError({ errors: [{ code: 'duplicate_error', message: 'a\nb' }] })).toEqual({ code: 'duplicate_error', message: 'a b' });
    expect(parseServerError({ error: { code: HOSTILE, message: 'x' } }).code).toBeUndefined();
    const long = `${'y'.repeat(199)}SECRETVALUE${'z'.repeat(5000)}`;
    expect(parseServerError(long).message).toContain('SECRETVALUE');
  });

});

describe('printing outside text', () => {
  it('logSafe: no line break, no command at a line start, no ##[ anywhere, bounded', () => {
    const out = logSafe(HOSTILE);
    expect(out).not.toMatch(/[\r\n]/);
    expect(out).not.toContain('##[');
    expect(logSafe('  ::error::x')).not.toMatch(/^\s*::/);
    expect(logSafe('a'.repeat(1000)).length).toBe(300);
    // A cut cannot rebuild what was broken up.
    expect(logSafe(`${'#'.repeat(299)}[`, 300)).not.toContain('##[');
  });

  it('summary: Markdown and HTML from outside never render', () => {
    expect(code(HOSTILE)).toMatch(/^`[^`|\n]*`$/);
    expect(plain('[Re-run here](https://evil.example) <img src=x>')).toBe('\\[Re-run here\\]\\(https://evil.example\\) \\<img src=x\\>');
  });

  it('secrets are scrubbed whole before any cut, and in their encoded forms', () => {
    const secret = 'Sup3rS3cretTokenValue';
    const body = `${'x'.repeat(190)}${secret}${'y'.repeat(50)}`;
    expect(logSafe(redact(body, [secret]), 200)).not.toContain(secret.slice(0, 8));
    for (const echo of [Buffer.from(secret).toString('base64'), Buffer.from(`ab${secret}cd`).toString('base64'), encodeURIComponent(`${secret}/`)]) {
      expect(redact(`echo ${echo}`, [secret]), echo).toContain('***');
    }
    expect(secretForms([secret])).toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  });
});

describe('Software Trust keypairs (keypair-alias check)', () => {
  it('a keypair item in the recorded shape (ebourg/jsign digicertone-keypairs.json): the fields the keypair check reads', () => {
    const recorded = {
      id: 'k1',
      alias: 'release-key',
      key_type: 'PRODUCTION',
      key_status: 'ONLINE',
      account: { id: 'a1', name: 'Main' },
      limit_by_users: true,
      users: [{ id: 'u1', name: 'John Doe', auth_type: 'BASIC' }, { id: '../x' }],
      groups: [{ id: 'g1', name: 'The Jsign Project', status: 'ACTIVE' }, { id: 'g2', name: '::error::x' }],
      certificates: [{ id: 'c1', alias: 'release-cert', certificate_status: 'ACTIVE', default_cert: true, valid_to: '2042-11-10T23:59:59Z' }, { id: 'c/2' }],
      number_of_active_certificates: 1,
      is_signable_by_me: true,
    };
    expect(parseKeypair(recorded)).toEqual({
      id: 'k1',
      alias: 'release-key',
      signableByMe: true,
      limitByUsers: true,
      users: ['u1'],
      // A name outside the documented set is dropped (the id is shown instead); an item whose id is not one, too.
      groups: [{ id: 'g1', name: 'The Jsign Project' }, { id: 'g2', name: undefined }],
      certificates: [{ id: 'c1', alias: 'release-cert', status: 'ACTIVE', isDefault: true, validTo: '2042-11-10' }],
      activeCertificates: 1,
    });
    // Absent fields stay undefined (the check then says it could not confirm), and so do values of the wrong type.
    expect(parseKeypair({ id: 'k1', alias: 'a', key_alg: 'RSA' })).toEqual({ id: 'k1', alias: 'a', signableByMe: undefined, limitByUsers: undefined, users: undefined, groups: undefined, certificates: undefined, activeCertificates: undefined });
    expect(parseKeypair({ id: 'k1', is_signable_by_me: 'true', number_of_active_certificates: -1, users: 'u1' })).toMatchObject({ signableByMe: undefined, activeCertificates: undefined, users: undefined });
    // A hostile alias is dropped (it then matches no input), an id that is not one drops the item.
    expect(parseKeypair({ id: 'k1', alias: HOSTILE })?.alias).toBeUndefined();
    expect(parseKeypair({ id: 'a/b', alias: 'a' })).toBeUndefined();
  });

  it('keypair aliases: letters, digits, dots, dashes, underscores, at most 100', () => {
    expect(parseKeypairAlias('release-key_2026.v1')).toBe('release-key_2026.v1');
    for (const bad of ['', 'a b', 'a/b', 'a?x=1', 'x'.repeat(101), HOSTILE, 7]) expect(parseKeypairAlias(bad)).toBeUndefined();
  });

  it("Software Trust's error code is read from error.status (ebourg/jsign's test answers)", () => {
    expect(parseServerError({ error: { status: 'invalid_input_field', message: 'Keypair not present' } })).toEqual({ code: 'invalid_input_field', message: 'Keypair not present' });
    expect(parseServerError({ error: { code: 'access_denied', status: 'x', message: 'm' } }).code).toBe('access_denied');
  });
});
