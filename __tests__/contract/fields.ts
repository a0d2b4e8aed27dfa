/**
 * The wire contract, field by field: for every response field the action reads, the spelling the emulator answers
 * with and the spellings the action accepts (src/d1/client.ts, the one place that reads them). `fields.test.ts` proves
 * each accepted spelling really is accepted, so this table cannot drift from the code; the contract suite checks
 * each answer against it and records which spelling the target used, so a live run's failure names the exact
 * assumption a real tenant broke. `seenOnRealTenant` is updated from contributed live runs (docs/api.md: field table).
 */
import type { AnswerShape } from '../../src/d1/answer-fields.js';
import type { D1Client } from '../../src/d1/client.js';
import type { Code, Id, KeypairAlias, Name, UtcDay } from '../../src/d1/wire.js';

export const BARE_ARRAY = '(bare array)';

export interface FieldRule {
  id: string;
  /** Endpoint as the action's client names it, ids replaced by {id}. */
  endpoint: string;
  field: string;
  emulator: string;
  accepted: string[];
  /** The action fails without it (otherwise it only reads it when present). */
  required: boolean;
  /** `container`: how a list arrives; `item`: a field of each list item; `top`: a field of an object answer. */
  where: 'top' | 'item' | 'container';
  /** Run with a fake HTTP answer holding just this spelling; returns what the action read. */
  read: (client: D1Client) => Promise<unknown>;
  answer: (spelling: string) => unknown;
  expect: unknown;
  seenOnRealTenant: boolean;
}

const P = '/account/api/v1';
const ST = '/signingmanager/api/v1';
const ALIAS = 'release-key' as KeypairAlias;
const wrap = (s: string, item: object) => (s === BARE_ARRAY ? [item] : { [s]: [item] });

/** The shape of a PEM certificate, which the wire module checks (armour and base64 lines), not a real one. */
const PEM = `-----BEGIN CERTIFICATE-----\n${'QUJD'.repeat(16)}\n-----END CERTIFICATE-----\n`;
const newCert = { csrPem: 'csr', name: 'n' as Name, endDate: '2030-01-31' as UtcDay };

export const FIELDS: FieldRule[] = [
  { id: 'me.id', endpoint: `GET ${P}/user/me`, field: 'user id', emulator: 'id', accepted: ['id', 'user_id'], required: true, where: 'top', read: (c) => c.getUser('me').then((u) => u.id), answer: (s) => ({ [s]: 'u1' }), expect: 'u1', seenOnRealTenant: false },
  { id: 'me.end_date', endpoint: `GET ${P}/user/me`, field: 'user end date (YYYY-MM-DD)', emulator: 'end_date', accepted: ['end_date', 'expiration_date'], required: false, where: 'top', read: (c) => c.getUser('me').then((u) => u.endDate), answer: (s) => ({ id: 'u1', [s]: '2030-01-31' }), expect: '2030-01-31', seenOnRealTenant: false },
  { id: 'me.user_type', endpoint: `GET ${P}/user/me`, field: 'user type (service / standard)', emulator: 'user_type', accepted: ['user_type'], required: false, where: 'top', read: (c) => c.getUser('me').then((u) => u.userType), answer: (s) => ({ id: 'u1', [s]: 'service' }), expect: 'service', seenOnRealTenant: false },
  { id: 'me.status', endpoint: `GET ${P}/user/me`, field: 'user status (ACTIVE)', emulator: 'status', accepted: ['status'], required: false, where: 'top', read: (c) => c.getUser('me').then((u) => u.status), answer: (s) => ({ id: 'u1', [s]: 'ACTIVE' }), expect: 'ACTIVE', seenOnRealTenant: false },
  { id: 'me.primary_account_id', endpoint: `GET ${P}/user/me`, field: 'primary account (scope)', emulator: 'primary_account_id', accepted: ['primary_account_id'], required: false, where: 'top', read: (c) => c.getUser('me').then((u) => u.primaryAccountId), answer: (s) => ({ id: 'u1', [s]: 'a1' }), expect: 'a1', seenOnRealTenant: false },
  { id: 'me.applications', endpoint: `GET ${P}/user/me`, field: 'permissions held (scope)', emulator: 'applications', accepted: ['applications'], required: false, where: 'top', read: (c) => c.getUser('me').then((u) => u.permissions), answer: (s) => ({ id: 'u1', [s]: [{ permissions: ['P1'] }] }), expect: ['P1'], seenOnRealTenant: false },
  { id: 'user.id', endpoint: `GET ${P}/user/{id}`, field: 'user id', emulator: 'id', accepted: ['id', 'user_id'], required: true, where: 'top', read: (c) => c.getUser('x' as Id).then((u) => u.id), answer: (s) => ({ [s]: 'u1' }), expect: 'u1', seenOnRealTenant: false },
  { id: 'tokens.list', endpoint: `GET ${P}/api-access-token`, field: 'token list', emulator: BARE_ARRAY, accepted: [BARE_ARRAY, 'items', 'data', 'tokens', 'results'], required: true, where: 'container', read: (c) => c.listTokens('u1' as Id).then((l) => l[0]?.id), answer: (s) => wrap(s, { id: 't1', name: 'n' }), expect: 't1', seenOnRealTenant: false },
  { id: 'tokens.item.id', endpoint: `GET ${P}/api-access-token`, field: 'token id', emulator: 'id', accepted: ['id'], required: true, where: 'item', read: (c) => c.listTokens('u1' as Id).then((l) => l[0]?.id), answer: (s) => [{ [s]: 't1', name: 'n' }], expect: 't1', seenOnRealTenant: false },
  { id: 'tokens.item.name', endpoint: `GET ${P}/api-access-token`, field: 'token name', emulator: 'name', accepted: ['name'], required: true, where: 'item', read: (c) => c.listTokens('u1' as Id).then((l) => l[0]?.name), answer: (s) => [{ id: 't1', [s]: 'n' }], expect: 'n', seenOnRealTenant: false },
  { id: 'tokens.item.end_date', endpoint: `GET ${P}/api-access-token`, field: 'token end date', emulator: 'end_date', accepted: ['end_date'], required: false, where: 'item', read: (c) => c.listTokens('u1' as Id).then((l) => l[0]?.endDate), answer: (s) => [{ id: 't1', [s]: '2030-01-31' }], expect: '2030-01-31', seenOnRealTenant: false },
  { id: 'tokens.item.created_at', endpoint: `GET ${P}/api-access-token`, field: 'token creation time (cleanup-stale)', emulator: 'created_at', accepted: ['created_at'], required: false, where: 'item', read: (c) => c.listTokens('u1' as Id).then((l) => l[0]?.createdAt), answer: (s) => [{ id: 't1', [s]: '2030-01-01T00:00:00Z' }], expect: Date.parse('2030-01-01T00:00:00Z'), seenOnRealTenant: false },
  { id: 'token.create.secret', endpoint: `POST ${P}/api-access-token`, field: 'minted token value', emulator: 'token', accepted: ['token', 'api_token', 'api_key', 'key'], required: true, where: 'top', read: (c) => c.createToken(newToken).then((t) => t.secret), answer: (s) => ({ id: 't1', [s]: 'sec-value-1' }), expect: 'sec-value-1', seenOnRealTenant: false },
  { id: 'token.create.id', endpoint: `POST ${P}/api-access-token`, field: 'minted token id', emulator: 'id', accepted: ['id', 'token_id'], required: true, where: 'top', read: (c) => c.createToken(newToken).then((t) => t.id), answer: (s) => ({ [s]: 't1', token: 'sec-value-1' }), expect: 't1', seenOnRealTenant: false },
  { id: 'user.create.secret', endpoint: `POST ${P}/user`, field: "service user's API token", emulator: 'api_token', accepted: ['api_token', 'token', 'api_key', 'key'], required: true, where: 'top', read: (c) => c.createServiceUser(newUser).then((u) => u.secret), answer: (s) => ({ id: 'u9', [s]: 'sec-value-1' }), expect: 'sec-value-1', seenOnRealTenant: false },
  { id: 'user.create.id', endpoint: `POST ${P}/user`, field: 'service user id', emulator: 'id', accepted: ['id', 'user_id'], required: true, where: 'top', read: (c) => c.createServiceUser(newUser).then((u) => u.id), answer: (s) => ({ [s]: 'u9', api_token: 'sec-value-1' }), expect: 'u9', seenOnRealTenant: false },
  { id: 'users.item.friendly_name', endpoint: `GET ${P}/user`, field: 'service user name', emulator: 'friendly_name', accepted: ['friendly_name'], required: true, where: 'item', read: (c) => c.listServiceUsers().then((l) => l[0]?.name), answer: (s) => [{ id: 'u9', [s]: 'n' }], expect: 'n', seenOnRealTenant: false },
  { id: 'roles.item.id', endpoint: `GET ${P}/role`, field: 'role id', emulator: 'id', accepted: ['id', 'code'], required: true, where: 'item', read: (c) => c.listRoles('x' as Code).then((l) => l[0]?.id), answer: (s) => [{ [s]: 'R1', name: 'r' }], expect: 'R1', seenOnRealTenant: false },
  { id: 'roles.item.name', endpoint: `GET ${P}/role`, field: 'role name', emulator: 'name', accepted: ['name'], required: true, where: 'item', read: (c) => c.listRoles('x' as Code).then((l) => l[0]?.name), answer: (s) => [{ id: 'R1', [s]: 'r' }], expect: 'r', seenOnRealTenant: false },
  { id: 'roles.item.permissions', endpoint: `GET ${P}/role`, field: 'role permissions', emulator: 'permissions', accepted: ['permissions'], required: true, where: 'item', read: (c) => c.listRoles('x' as Code).then((l) => l[0]?.permissions), answer: (s) => [{ id: 'R1', [s]: ['P1'] }], expect: ['P1'], seenOnRealTenant: false },
  { id: 'cert.create.id', endpoint: `POST ${P}/client-auth-certificate`, field: 'client certificate id', emulator: 'id', accepted: ['id', 'certificate_id'], required: true, where: 'top', read: (c) => c.createClientCert(newCert).then((x) => x.id), answer: (s) => ({ [s]: 'c1', certificate: PEM }), expect: 'c1', seenOnRealTenant: false },
  { id: 'cert.create.certificate', endpoint: `POST ${P}/client-auth-certificate`, field: 'client certificate (PEM)', emulator: 'certificate', accepted: ['certificate', 'certificate_pem', 'pem'], required: true, where: 'top', read: (c) => c.createClientCert(newCert).then((x) => x.certificatePem), answer: (s) => ({ id: 'c1', [s]: PEM }), expect: PEM, seenOnRealTenant: false },
  // Software Trust, read by the keypair check with the job's two factors (shapes from public clients: ebourg/jsign and others).
  { id: 'keypairs.list', endpoint: `GET ${ST}/keypairs`, field: 'keypair list', emulator: 'items', accepted: ['items', BARE_ARRAY, 'data'], required: true, where: 'container', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.id), answer: (s) => wrap(s, { id: 'k1', alias: ALIAS }), expect: 'k1', seenOnRealTenant: false },
  { id: 'keypairs.item.id', endpoint: `GET ${ST}/keypairs`, field: 'keypair id', emulator: 'id', accepted: ['id'], required: true, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.id), answer: (s) => ({ items: [{ [s]: 'k1', alias: ALIAS }] }), expect: 'k1', seenOnRealTenant: false },
  { id: 'keypairs.item.alias', endpoint: `GET ${ST}/keypairs`, field: 'keypair alias', emulator: 'alias', accepted: ['alias'], required: true, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.alias), answer: (s) => ({ items: [{ id: 'k1', [s]: ALIAS }] }), expect: ALIAS, seenOnRealTenant: false },
  // The keypair check's fields, in the names recorded from a real tenant by ebourg/jsign (digicertone-keypairs.json);
  // seenOnRealTenant stays false until a contract run of ours sees them (docs/api.md, Software Trust: recorded).
  { id: 'keypairs.item.is_signable_by_me', endpoint: `GET ${ST}/keypairs`, field: 'may the caller sign with it (keypair-alias check)', emulator: 'is_signable_by_me', accepted: ['is_signable_by_me'], required: false, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.signableByMe), answer: (s) => ({ items: [{ id: 'k1', alias: ALIAS, [s]: false }] }), expect: false, seenOnRealTenant: false },
  { id: 'keypairs.item.users', endpoint: `GET ${ST}/keypairs`, field: 'users it is assigned to (keypair-alias check)', emulator: 'users', accepted: ['users'], required: false, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.users), answer: (s) => ({ items: [{ id: 'k1', alias: ALIAS, [s]: [{ id: 'u1' }] }] }), expect: ['u1'], seenOnRealTenant: false },
  { id: 'keypairs.item.groups', endpoint: `GET ${ST}/keypairs`, field: 'groups it is assigned to (keypair-alias check)', emulator: 'groups', accepted: ['groups'], required: false, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.groups?.map((g) => g.id)), answer: (s) => ({ items: [{ id: 'k1', alias: ALIAS, [s]: [{ id: 'g1', name: 'G' }] }] }), expect: ['g1'], seenOnRealTenant: false },
  { id: 'keypairs.item.certificates', endpoint: `GET ${ST}/keypairs`, field: "keypair's certificates, status and default (keypair-alias check)", emulator: 'certificates', accepted: ['certificates'], required: false, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.certificates), answer: (s) => ({ items: [{ id: 'k1', alias: ALIAS, [s]: [{ id: 'c1', certificate_status: 'REVOKED', default_cert: true }] }] }), expect: [{ id: 'c1', alias: undefined, status: 'REVOKED', isDefault: true, validTo: undefined }], seenOnRealTenant: false },
  { id: 'keypairs.item.active_count', endpoint: `GET ${ST}/keypairs`, field: 'number of active certificates (keypair-alias check, without certificates)', emulator: 'number_of_active_certificates', accepted: ['number_of_active_certificates'], required: false, where: 'item', read: (c) => c.listKeypairs(ALIAS).then((l) => l[0]?.activeCertificates), answer: (s) => ({ items: [{ id: 'k1', alias: ALIAS, [s]: 0 }] }), expect: 0, seenOnRealTenant: false },
  { id: 'accounts.item.id', endpoint: `GET ${P}/account`, field: 'account id', emulator: 'id', accepted: ['id'], required: true, where: 'item', read: (c) => c.listAccounts().then((l) => l[0]?.id), answer: (s) => [{ [s]: 'a1', name: 'A' }], expect: 'a1', seenOnRealTenant: false },
];

const newUser = { name: 'n' as Name, description: 'd', email: 'e@x.invalid', endDate: '2030-01-31' as UtcDay, accounts: ['a1' as Id], roles: ['R1' as Id] };
const newToken = { userId: 'u1' as Id, name: 'n' as Name, endDate: '2030-01-31' as UtcDay };

/** The spelling of a rule present in an answer, or undefined (for an item rule, also when the list was empty). */
export function seenSpelling(rule: FieldRule, shape: AnswerShape): string | undefined {
  if (rule.where === 'container') return shape.kind === 'array' ? BARE_ARRAY : rule.accepted.find((a) => a !== BARE_ARRAY && shape.names.includes(a));
  if (rule.where === 'item' && shape.kind === 'object') {
    // A wrapped list: its items' names are not visible at the top; the container rule reports the wrapper.
    return undefined;
  }
  return rule.accepted.find((a) => shape.names.includes(a));
}

/** The endpoint key of the rules for an answer the client saw (`GET /account/api/v1/user/5b1c…` -> `…/user/{id}`). */
export function endpointKey(endpoint: string): string {
  return endpoint.replace(/\/user\/(?!me$)[^/]+$/, '/user/{id}').replace(/\/api-access-token\/[^/]+$/, '/api-access-token/{id}');
}

/** docs/api.md's field-by-field table (between <!-- fields:start/end -->), generated so it cannot drift from FIELDS. */
export function renderFieldTable(): string {
  const rows = FIELDS.map((r) => {
    const accepted = r.accepted.map((a) => (a === BARE_ARRAY ? 'bare array' : `\`${a}\``)).join(', ');
    const emu = r.emulator === BARE_ARRAY ? 'bare array' : `\`${r.emulator}\``;
    return `| \`${r.endpoint.replace('/account/api/v1', '')}\` | ${r.field}${r.required ? '' : ' (optional)'} | ${emu} | ${accepted} | ${r.seenOnRealTenant ? 'yes' : 'not yet'} |`;
  });
  return ['| request | field | emulator answers | action accepts | seen on a real tenant |', '|---|---|---|---|---|', ...rows].join('\n');
}
