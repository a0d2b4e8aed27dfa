/**
 * The emulator's Software Trust answers have the keys and types of the answers recorded from a real tenant.
 *
 * The fixtures below are the SHAPES of ebourg/jsign's recordings, written out by hand (keys and JSON types, no
 * values): jsign-crypto/src/test/resources/services/digicertone-keypairs.json (`GET keypairs/{id}`),
 * digicertone-certificates.json (`GET certificates?alias=`) and digicertone-sign.json (`POST keypairs/{id}/sign`).
 * Where the emulator serves a key the recording lacks, the test names it and where it comes from, so a new invented
 * field fails here until someone says why it is there.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYPAIR_ALIAS } from '../emulator/scenario.js';
import { softwareTrustCall, type SoftwareTrustCaller } from '../harness/later-step.js';
import { startTenant, type Tenant } from './support/emulator.js';

type Shape = string | Shape[] | { [key: string]: Shape };

const USER_REF = { id: 'string', name: 'string', auth_type: 'string' };
const ACCOUNT = { id: 'string', name: 'string', cert_central_integration_allowed: 'boolean', dynamic_test_keypair_allowed: 'boolean', gpg_enabled: 'boolean', is_csr_gen_enabled: 'boolean' };
const CHAIN = [{ cert_type: 'string', blob: 'string' }];

/** digicertone-keypairs.json, `certificates[]` item. */
const KEYPAIR_CERTIFICATE: Shape = {
  id: 'string',
  alias: 'string',
  cert: 'string',
  certificate_fingerprint: 'string',
  certificate_status: 'string',
  account: ACCOUNT,
  keypair: { id: 'string', alias: 'string', limit_by_users: 'boolean' },
  default_cert: 'boolean',
  created_on: 'string',
  created_by: 'string',
  created_by_user: USER_REF,
  modified_on: 'string',
  modified_by: 'string',
  modified_by_user: USER_REF,
  enrollment_method: 'string',
  hierarchy: 'string',
  certificate_type: 'string',
  certificate_profile: { id: 'string' },
  organization: { id: 'string' },
  ca_certificate: { id: 'string' },
  chain: CHAIN,
  valid_from: 'string',
  valid_to: 'string',
  custom_fields: [],
  auto_renewal: 'boolean',
};

/** digicertone-keypairs.json (GET keypairs/{id}). */
const RECORDED_KEYPAIR: Shape = {
  id: 'string',
  alias: 'string',
  key_size: 'number',
  key_alg: 'string',
  key_type: 'string',
  key_storage: 'string',
  public_key: 'string',
  certificates: [KEYPAIR_CERTIFICATE],
  account: ACCOUNT,
  limit_by_users: 'boolean',
  users: [USER_REF],
  created_on: 'string',
  created_by_user: USER_REF,
  modified_on: 'string',
  modified_by_user: USER_REF,
  key_status: 'string',
  groups: [{ id: 'string', name: 'string', status: 'string', created_on: 'string', created_by: 'string', modified_on: 'string', modified_by: 'string' }],
  number_of_active_certificates: 'number',
  key_modal_type: 'string',
  is_signable_by_me: 'boolean',
  hsm_partition_details: {
    id: 'string',
    name: 'string',
    escrow_default: 'boolean',
    enabled: 'boolean',
    provider_partition_id: 'string',
    hsm_provider: { name: 'string' },
    account_assignments: 'null',
    display_name: 'string',
    partition_name: 'string',
    allowed_uses: ['string'],
    access_to_all: 'boolean',
    security_level: 'string',
    created_date: 'string',
    active_escrow_key_present: 'boolean',
    default: 'boolean',
  },
};

/** digicertone-certificates.json (GET certificates?alias=): a page; its items are trimmed in places. */
const RECORDED_CERTIFICATES: Shape = {
  total: 'number',
  offset: 'number',
  limit: 'number',
  items: [
    {
      id: 'string',
      alias: 'string',
      cert: 'string',
      certificate_fingerprint: 'string',
      certificate_status: 'string',
      account: { id: 'string', name: 'string', cert_central_integration_allowed: 'boolean' },
      keypair: { id: 'string', alias: 'string', limit_by_users: 'boolean' },
      default_cert: 'boolean',
      created_on: 'string',
      created_by: 'string',
      created_by_user: { id: 'string', name: 'string' },
      modified_on: 'string',
      modified_by: 'string',
      modified_by_user: { id: 'string', name: 'string' },
      enrollment_method: 'string',
      hierarchy: 'string',
      certificate_type: 'string',
      certificate_profile: { id: 'string', name: 'string' },
      organization: { id: 'string' },
      ca_certificate: { id: 'string' },
      chain: CHAIN,
      valid_from: 'string',
      valid_to: 'string',
      auto_renewal: 'boolean',
    },
  ],
};

/** digicertone-sign.json. */
const RECORDED_SIGN: Shape = { id: 'string', signature: 'string' };

/** The shape of a JSON value: its keys and JSON types; an array by its first item. */
function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0])] : [];
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

/** Differences of `got` from `want`: `missing` (absent or of another type) and `extra` keys, as paths. */
function compare(want: Shape, got: Shape, path = '', out = { missing: [] as string[], extra: [] as string[] }) {
  if (typeof want === 'string' || typeof got === 'string') {
    if (JSON.stringify(want) !== JSON.stringify(got)) out.missing.push(`${path || '.'}: ${JSON.stringify(want)} vs ${JSON.stringify(got)}`);
  } else if (Array.isArray(want) || Array.isArray(got)) {
    if (!Array.isArray(want) || !Array.isArray(got)) out.missing.push(`${path}: array vs not`);
    else if (want.length && got.length) compare(want[0]!, got[0]!, `${path}[]`, out);
    else if (want.length && !got.length) out.missing.push(`${path}[]: empty`);
  } else {
    for (const k of Object.keys(want)) {
      if (!(k in got)) out.missing.push(`${path}.${k}`);
      else compare(want[k]!, got[k]!, `${path}.${k}`, out);
    }
    for (const k of Object.keys(got)) if (!(k in want)) out.extra.push(`${path}.${k}`);
  }
  return out;
}

let t: Tenant;
let me: SoftwareTrustCaller;
beforeAll(async () => {
  t = await startTenant();
  const team = t.emu.softwareTrust.addTeam('release engineers', [t.s.signer.id]);
  t.emu.softwareTrust.keypairs.get(t.s.keypair.id)!.teams.add(team.id);
  const token = t.emu.model.addToken(t.s.signer.id, 'recorded shapes', undefined);
  const pair = t.emu.issueClientCert(t.s.signer.id);
  me = { apiKey: token.secret, tls: { cert: pair.certPem, key: pair.keyPem } };
});
afterAll(async () => {
  await t.emu.close();
});

const body = async (method: 'GET' | 'POST', path: string, b?: unknown): Promise<unknown> => {
  const r = await softwareTrustCall(t.emu, me, method, path, b);
  expect(r).toMatchObject({ status: 200 });
  return (r as { body: unknown }).body;
};

describe('Software Trust answers in the recorded shapes (ebourg/jsign recordings)', () => {
  it('the shape check itself fails on a missing key, a type change and an invented key', () => {
    expect(compare({ a: 'string', b: [{ c: 'boolean' }] }, { a: 'number', b: [{}], d: 'string' })).toEqual({ missing: ['.a: "string" vs "number"', '.b[].c'], extra: ['.d'] });
  });

  it('GET keypairs/{id}: every recorded key, same types; one key besides, from the Jenkins plugin', async () => {
    const diff = compare(RECORDED_KEYPAIR, shapeOf(await body('GET', `/keypairs/${t.s.keypair.id}`)));
    expect(diff.missing).toEqual([]);
    // created_by: read from a listed keypair by jenkinsci/digicert-software-trust-code-sign-plugin (Linux.java).
    // certificate_profile.name: recorded in digicertone-certificates.json's items.
    expect(diff.extra).toEqual(['.certificates[].certificate_profile.name', '.created_by']);
  });

  it('GET keypairs?alias= items have the keypair shape (DigiCert Jenkins plugin reads them as items)', async () => {
    const page = (await body('GET', `/keypairs?alias=${KEYPAIR_ALIAS}`)) as { items: unknown[] };
    expect(compare({ total: 'number', offset: 'number', limit: 'number', items: [] }, shapeOf({ ...page, items: [] }))).toEqual({ missing: [], extra: [] });
    const diff = compare(RECORDED_KEYPAIR, shapeOf(page.items[0]));
    expect(diff).toEqual({ missing: [], extra: ['.certificates[].certificate_profile.name', '.created_by'] });
  });

  it('GET certificates?alias=: every recorded key, same types; the fuller account and user objects are those of the keypair recording', async () => {
    const diff = compare(RECORDED_CERTIFICATES, shapeOf(await body('GET', `/certificates?alias=${t.s.keypair.certificates[0]!.alias}`)));
    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([
      '.items[].account.dynamic_test_keypair_allowed',
      '.items[].account.gpg_enabled',
      '.items[].account.is_csr_gen_enabled',
      '.items[].created_by_user.auth_type',
      '.items[].modified_by_user.auth_type',
      '.items[].custom_fields',
    ]);
  });

  it('POST keypairs/{id}/sign answers exactly {id, signature}', async () => {
    const { account } = (await body('GET', `/keypairs/${t.s.keypair.id}`)) as { account: unknown };
    const hash = createHash('sha256').update('x').digest('base64');
    expect(compare(RECORDED_SIGN, shapeOf(await body('POST', `/keypairs/${t.s.keypair.id}/sign`, { account, sig_alg: 'SHA256withRSA', hash })))).toEqual({ missing: [], extra: [] });
  });

  it('the recorded values that carry meaning: key_type, key_status, account object, one ACTIVE default certificate, is_signable_by_me', async () => {
    const kp = (await body('GET', `/keypairs/${t.s.keypair.id}`)) as Record<string, unknown>;
    expect(kp).toMatchObject({
      key_alg: 'RSA',
      key_type: 'PRODUCTION',
      key_storage: 'HSM',
      key_status: 'ONLINE',
      account: { id: 'acct-main', name: 'Main account' },
      limit_by_users: true,
      users: [{ id: t.s.signer.id, name: 'release-signer' }],
      groups: [{ name: 'release engineers', status: 'ACTIVE' }],
      number_of_active_certificates: 1,
      is_signable_by_me: true,
      certificates: [{ certificate_status: 'ACTIVE', default_cert: true, keypair: { id: t.s.keypair.id, alias: KEYPAIR_ALIAS, limit_by_users: true }, chain: [{ cert_type: 'root' }] }],
    });
  });
});
