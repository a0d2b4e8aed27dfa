/**
 * The keypair check's two questions (src/job/keypair-check.ts), on parsed answers: what each field of the recorded
 * shape (ebourg/jsign digicertone-keypairs.json) makes of "may the user sign" and "has it an ACTIVE certificate",
 * including the branches the end-to-end tests (keypair-signing.test.ts) do not reach.
 */
import { describe, expect, it } from 'vitest';
import { parseKeypair, type Id, type KeypairAlias } from '../src/d1/wire.js';
import { activeCertificate, maySign } from '../src/job/keypair-check.js';

const alias = 'release-key' as KeypairAlias;
const user = 'u1' as Id;
const kp = (fields: Record<string, unknown>) => parseKeypair({ id: 'k1', alias, ...fields })!;

describe('may the user sign with it', () => {
  it('is_signable_by_me decides when present, whatever the assignment says', () => {
    expect(maySign(kp({ is_signable_by_me: true, users: [] }), user, alias)).toEqual({ ok: 'is_signable_by_me: true' });
    expect(maySign(kp({ is_signable_by_me: false, users: [{ id: 'u1' }], groups: [] }), user, alias)).toEqual({
      no: expect.stringContaining("is_signable_by_me: false: the user can see keypair 'release-key' (id k1) but may not sign with it (users: u1; groups: none)"),
    });
  });

  it('without it: listed in users is a yes; in neither users nor groups a no; groups only, or limit_by_users false, cannot be confirmed', () => {
    expect(maySign(kp({ users: [{ id: 'u1' }] }), user, alias)).toEqual({ ok: 'assigned to the user (users)' });
    expect(maySign(kp({ users: [{ id: 'u2' }], groups: [] }), user, alias)).toEqual({ no: expect.stringContaining('is not assigned to the user nor to any group (users: u2; groups: none)') });
    expect(maySign(kp({ users: [], groups: [{ id: 'g1', name: 'Release team' }] }), user, alias)).toEqual({ unknown: expect.stringContaining('the answer lists its groups but not their members') });
    expect(maySign(kp({ users: [], groups: [], limit_by_users: false }), user, alias)).toHaveProperty('unknown');
    expect(maySign(kp({ users: [{ id: 'u2' }] }), user, alias)).toHaveProperty('unknown');
    expect(maySign(kp({}), user, alias)).toEqual({ unknown: 'that the user may sign with it (no is_signable_by_me; the answer has none of is_signable_by_me, users, groups)' });
  });
});

describe('has it an ACTIVE certificate', () => {
  const cert = (alias: string, status?: string, isDefault?: boolean) => ({ id: `c-${alias}`, alias, certificate_status: status, default_cert: isDefault, valid_to: '2042-11-10T23:59:59Z' });

  it('the default one ACTIVE: yes, without a warning', () => {
    expect(activeCertificate(kp({ certificates: [cert('a', 'REVOKED', false), cert('b', 'ACTIVE', true)] }), alias)).toEqual({ ok: "its default certificate 'b' is ACTIVE, valid to 2042-11-10" });
  });

  it('an ACTIVE one that is not the default: yes, with a warning naming both; no default_cert fields at all: yes, silently', () => {
    const r = activeCertificate(kp({ certificates: [cert('old', 'EXPIRED', true), cert('new', 'ACTIVE', false)] }), alias);
    expect(r).toMatchObject({ ok: "certificate 'new' is ACTIVE, valid to 2042-11-10", warn: expect.stringContaining("its default certificate 'old' is EXPIRED, while 'new' is ACTIVE") });
    expect(activeCertificate(kp({ certificates: [cert('only', 'ACTIVE')] }), alias)).toEqual({ ok: "certificate 'only' is ACTIVE, valid to 2042-11-10", warn: undefined });
  });

  it('none ACTIVE: no, listing each with its status, and the fix; none at all: no; a status missing: not confirmed', () => {
    expect(activeCertificate(kp({ certificates: [cert('a', 'REVOKED', true), cert('b', 'EXPIRED')] }), alias)).toEqual({
      no: expect.stringMatching(/has no ACTIVE certificate to sign with \('a' REVOKED, 'b' EXPIRED\)\. To fix: renew or re-issue its certificate/),
    });
    expect(activeCertificate(kp({ certificates: [] }), alias)).toEqual({ no: expect.stringContaining('(it has no certificate)') });
    expect(activeCertificate(kp({ certificates: [cert('a', 'REVOKED'), cert('b')] }), alias)).toHaveProperty('unknown');
  });

  it('without certificates: number_of_active_certificates decides; without either, not confirmed', () => {
    expect(activeCertificate(kp({ number_of_active_certificates: 2 }), alias)).toEqual({ ok: 'number_of_active_certificates: 2' });
    expect(activeCertificate(kp({ number_of_active_certificates: 0 }), alias)).toHaveProperty('no');
    expect(activeCertificate(kp({}), alias)).toEqual({ unknown: 'that it has an ACTIVE certificate (the answer has neither certificates nor number_of_active_certificates)' });
  });
});
