/**
 * DigiCert ONE's wire format, and the one boundary for what its answers say. Every path, request field and response
 * field the action uses is here, and every value read from an answer is parsed into a typed, bounded value before
 * anything else sees it: ids that are safe in a URL path, names in the documented character set, UTC days, short
 * clean text. A value that does not parse is dropped (`undefined`), never passed on as it came.
 *
 * Field names marked *unconfirmed* are not in the public documentation (see shared/d1-api.md, "What the public
 * documentation confirms"); each is read from a short list of plausible spellings, and when an answer lacks one the
 * error names the fields that were present (their names only, themselves parsed).
 */

export const API_PREFIX = '/account/api/v1';
/** Software Trust Manager (dev.digicert.com "Software Trust Manager API"), on `clientauth.<host>` with both factors. */
export const SOFTWARE_TRUST_PREFIX = '/signingmanager/api/v1';

// ---------------------------------------------------------------------------------------------------------------
// Values

/** An id we may put in a URL path and a log line: no `/`, no `%`, no white space, not `.` or `..`, bounded. */
export type Id = string & { readonly __brand: 'Id' };
const ID = /^[A-Za-z0-9_.-]{1,128}$/;
export function parseId(v: unknown): Id | undefined {
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  if (typeof s !== 'string' || !ID.test(s) || s === '.' || s === '..') return undefined;
  return s as Id;
}

/** DigiCert ONE names: letters, digits, spaces, dashes and underscores (documented for friendly and token names). */
export type Name = string & { readonly __brand: 'Name' };
export const NAME_PATTERN = /^[A-Za-z0-9 _-]+$/;
export const NAME_READ_MAX = 256;
export function parseName(v: unknown): Name | undefined {
  return typeof v === 'string' && v.length <= NAME_READ_MAX && NAME_PATTERN.test(v) && v.trim() !== '' ? (v as Name) : undefined;
}

/** A UTC day, `YYYY-MM-DD`; the credential works until 23:59:59 UTC that day. */
export type UtcDay = string & { readonly __brand: 'UtcDay' };
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Strict `YYYY-MM-DD` (a real calendar day), or an ISO 8601 date-time reduced to its UTC day; else undefined. */
export function parseUtcDay(v: unknown): UtcDay | undefined {
  if (typeof v !== 'string' || v.length > 40) return undefined;
  const day = DAY.exec(v);
  if (day) {
    const d = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])));
    return d.toISOString().slice(0, 10) === v ? (v as UtcDay) : undefined;
  }
  if (!DATE_TIME.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : (new Date(t).toISOString().slice(0, 10) as UtcDay);
}

export function utcDayOf(d: Date, addDays = 0): UtcDay {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + addDays)).toISOString().slice(0, 10) as UtcDay;
}

/** An instant (ISO 8601 date-time with a zone), as epoch ms; else undefined. */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.length > 40 || !DATE_TIME.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** A code such as `duplicate_error`, `ACTIVE`, `SIGN_SM_HASH`, `secure_software_manager`. */
export type Code = string & { readonly __brand: 'Code' };
const CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export function parseCode(v: unknown): Code | undefined {
  return typeof v === 'string' && CODE.test(v) ? (v as Code) : undefined;
}

/**
 * Free text (an error message, a role's display name): control characters become spaces. Never cut here: the body
 * is at most 1 MiB (http.ts), and the client scrubs secrets from the whole text before anything shortens it (a cut
 * first could leave a secret minus its last characters, which no mask matches). It reaches the log only through
 * logSafe, the summary only escaped.
 */
export function parseText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim();
  return s || undefined;
}

/**
 * A Software Trust keypair alias as the `keypair-alias` input takes it (smctl's `--keypair-alias`): letters, digits,
 * dots, dashes and underscores, at most 100. DigiCert documents no character set for aliases; this one is ours, so
 * that the value is safe in a query string and a log line. Also how an alias in an answer is read.
 */
export type KeypairAlias = string & { readonly __brand: 'KeypairAlias' };
export const KEYPAIR_ALIAS_MAX = 100;
const KEYPAIR_ALIAS = /^[A-Za-z0-9._-]+$/;
export function parseKeypairAlias(v: unknown): KeypairAlias | undefined {
  return typeof v === 'string' && v.length <= KEYPAIR_ALIAS_MAX && KEYPAIR_ALIAS.test(v) ? (v as KeypairAlias) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths (confirmed by dev.digicert.com, "Manage API token lifecycle", "Create and authenticate a service user")

export const PATHS = {
  users: `${API_PREFIX}/user`,
  serviceUsers: `${API_PREFIX}/user?user_type=service`,
  user: (id: Id | 'me') => `${API_PREFIX}/user/${id}`,
  roles: (applicationCode: Code) => `${API_PREFIX}/role?application_code=${applicationCode}`,
  accounts: `${API_PREFIX}/account`,
  tokens: `${API_PREFIX}/api-access-token`,
  tokensOf: (userId: Id) => `${API_PREFIX}/api-access-token?user_id=${userId}`,
  token: (id: Id) => `${API_PREFIX}/api-access-token/${id}`,
  // dev.digicert.com "Set up service user multi-factor authentication" (paths confirmed, bodies not public).
  clientCerts: `${API_PREFIX}/client-auth-certificate`,
  clientCertEnable: (id: Id) => `${API_PREFIX}/client-auth-certificate/${id}/enable`,
  // Software Trust: `GET keypairs?alias=` as public clients list keypairs (see docs/software-trust-notes.md, section 6).
  keypairsByAlias: (alias: KeypairAlias) => `${SOFTWARE_TRUST_PREFIX}/keypairs?alias=${encodeURIComponent(alias)}`,
};

// ---------------------------------------------------------------------------------------------------------------
// Request bodies

/** POST /api-access-token. *Unconfirmed*: the docs say "a descriptive name and expiration date", not the keys. */
export function createTokenBody(t: { name: Name; endDate: UtcDay; userId: Id }): Record<string, string> {
  return { name: t.name, end_date: t.endDate, user_id: t.userId };
}

export interface NewServiceUser {
  name: Name;
  description: string;
  email: string;
  endDate: UtcDay;
  accounts: Id[];
  roles: Id[];
}

/** POST /user for a service user. *Unconfirmed*: the console's fields are documented, not the JSON keys. */
export function createServiceUserBody(u: NewServiceUser): Record<string, unknown> {
  return { user_type: 'service', friendly_name: u.name, description: u.description, email: u.email, end_date: u.endDate, accounts: u.accounts, roles: u.roles };
}

/**
 * POST /client-auth-certificate, "for the authenticated user" (sent with the job's own token). *Unconfirmed* keys:
 * the console asks for a nickname and an end date; the CSR's key name is not public.
 */
export function createClientCertBody(c: { csrPem: string; name: Name; endDate: UtcDay }): Record<string, string> {
  return { csr: c.csrPem, name: c.name, end_date: c.endDate };
}

/** PUT /client-auth-certificate/{id}/enable: enable or disable. *Unconfirmed* key. */
export function enableClientCertBody(enabled: boolean): Record<string, boolean> {
  return { enabled };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

/** Where a secret may be in a create's answer (*unconfirmed*), at the top level or under `api_token`. */
export const SECRET_FIELDS = ['token', 'api_token', 'api_key', 'key'] as const;
/** A token value: printable ASCII without spaces, bounded. Anything else is not one we can hand on. */
const SECRET = /^[\x21-\x7e]{8,512}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const first = <T>(o: Obj, names: readonly string[], parse: (v: unknown) => T | undefined): T | undefined => {
  for (const n of names) {
    const v = parse(o[n]);
    if (v !== undefined) return v;
  }
  return undefined;
};

export interface ServerError {
  code: Code | undefined;
  message: string | undefined;
}

/** The docs show both `{"error": {...}}` and `{"errors": [{...}]}` ("Error handling and rate limits"); read either. */
export function parseServerError(body: unknown): ServerError {
  if (isObj(body)) {
    const e = Array.isArray(body.errors) ? body.errors[0] : body.error;
    // Not cut here: the client scrubs secrets from the whole text first, then cuts (the body is at most 1 MiB).
    // Software Trust puts its code in `status` (`{"error": {"status": "invalid_input_field", ...}}`, ebourg/jsign tests).
    if (isObj(e)) return { code: parseCode(e.code) ?? parseCode(e.status), message: parseText(e.message) };
    if (typeof body.error === 'string') return { code: parseCode(body.error), message: undefined };
  }
  return { code: undefined, message: typeof body === 'string' ? parseText(body) : undefined };
}

/** A bare JSON array as documented for the listings; a wrapper object is tolerated. */
export function parseList(body: unknown): Obj[] | undefined {
  let items: unknown = body;
  if (isObj(body)) items = ['items', 'data', 'tokens', 'results', 'users'].map((k) => body[k]).find(Array.isArray);
  return Array.isArray(items) ? items.filter(isObj) : undefined;
}

export interface User {
  id: Id;
  /** `service` or `standard`. */
  userType: Code | undefined;
  status: Code | undefined;
  /** *Unconfirmed* field name; absent from the documented list example. */
  endDate: UtcDay | undefined;
  primaryAccountId: Id | undefined;
  /** Every permission across the user's applications (managers). */
  permissions: Code[];
}

export function parseUser(body: unknown): User | undefined {
  if (!isObj(body)) return undefined;
  const id = first(body, ['id', 'user_id'], parseId);
  if (!id) return undefined;
  const apps = Array.isArray(body.applications) ? body.applications.filter(isObj) : [];
  return {
    id,
    userType: parseCode(body.user_type),
    status: parseCode(body.status),
    endDate: first(body, ['end_date', 'expiration_date'], parseUtcDay),
    primaryAccountId: parseId(body.primary_account_id),
    permissions: apps.flatMap((a) => (Array.isArray(a.permissions) ? a.permissions.map(parseCode).filter((p): p is Code => !!p) : [])),
  };
}

/** A credential in a listing (a token of a user, or a service user): only what is needed to find or sweep it. */
export interface Listed {
  id: Id;
  /** Undefined when the name is not a valid DigiCert ONE name: such an entry is never ours. */
  name: Name | undefined;
  endDate: UtcDay | undefined;
  createdAt: number | undefined;
}

function parseListed(x: Obj, nameField: string): Listed | undefined {
  const id = parseId(x.id);
  return id ? { id, name: parseName(x[nameField]), endDate: parseUtcDay(x.end_date), createdAt: parseInstant(x.created_at) } : undefined;
}
export const parseTokenItem = (x: Obj): Listed | undefined => parseListed(x, 'name');
export const parseServiceUserItem = (x: Obj): Listed | undefined => parseListed(x, 'friendly_name');

export interface Role {
  id: Id;
  /** Display name (free text, bounded). */
  name: string;
  permissions: Code[];
}
export function parseRole(x: Obj): Role | undefined {
  const id = first(x, ['id', 'code'], parseId);
  if (!id) return undefined;
  return { id, name: parseText(x.name) ?? id, permissions: Array.isArray(x.permissions) ? x.permissions.map(parseCode).filter((p): p is Code => !!p) : [] };
}

export interface Account {
  id: Id;
  name: string;
}
export function parseAccount(x: Obj): Account | undefined {
  const id = parseId(x.id);
  return id ? { id, name: parseText(x.name) ?? id } : undefined;
}

export interface Created {
  /** The new credential's id (the token's, or the service user's). */
  id: Id | undefined;
  secret: string | undefined;
  endDate: UtcDay | undefined;
  /** Its name as the answer states it (undefined when absent or not a valid name). */
  name: Name | undefined;
}

/**
 * The answer fields whose absence the action reports (a warning naming the field and endpoint) instead of showing
 * the value it asked for. *Unconfirmed* names, like the rest of these answers.
 */
export const CREATED_TOKEN_FIELDS = { endDate: 'end_date', name: 'name' } as const;
export const CREATED_USER_FIELDS = { endDate: 'end_date', name: 'friendly_name' } as const;

/** The answer to POST /api-access-token (*unconfirmed*: token in one of SECRET_FIELDS, id in `id`). */
export function parseCreatedToken(body: unknown): Created {
  if (!isObj(body)) return { id: undefined, secret: undefined, endDate: undefined, name: undefined };
  return {
    id: first(body, ['id', 'token_id'], parseId),
    secret: first(body, SECRET_FIELDS, parseSecret),
    endDate: parseUtcDay(body[CREATED_TOKEN_FIELDS.endDate]),
    name: parseName(body[CREATED_TOKEN_FIELDS.name]),
  };
}

/** The answer to POST /user (*unconfirmed*: the token at the top level or under `api_token`). */
export function parseCreatedServiceUser(body: unknown): Created {
  if (!isObj(body)) return { id: undefined, secret: undefined, endDate: undefined, name: undefined };
  const nested = isObj(body.api_token) ? body.api_token : undefined;
  return {
    id: first(body, ['id', 'user_id'], parseId),
    secret: first(body, SECRET_FIELDS, parseSecret) ?? (nested ? first(nested, SECRET_FIELDS, parseSecret) : undefined),
    endDate: parseUtcDay(body[CREATED_USER_FIELDS.endDate]),
    name: parseName(body[CREATED_USER_FIELDS.name]),
  };
}

/** One PEM certificate: armour, base64 lines, bounded; anything else (text, HTML, a chain glued on) is not one. */
const CERT_PEM = /^-----BEGIN CERTIFICATE-----\r?\n(?:[A-Za-z0-9+/=]{1,76}\r?\n){1,200}-----END CERTIFICATE-----\r?\n?$/;
export function parseCertificatePem(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 16 * 1024 && CERT_PEM.test(v) ? v : undefined;
}

export interface CreatedCertificate {
  id: Id | undefined;
  /** *Unconfirmed* field name `certificate`; also read: `certificate_pem`, `pem`. */
  certificatePem: string | undefined;
}

/** The answer to POST /client-auth-certificate (*unconfirmed*). */
export function parseCreatedClientCert(body: unknown): CreatedCertificate {
  if (!isObj(body)) return { id: undefined, certificatePem: undefined };
  return { id: first(body, ['id', 'certificate_id'], parseId), certificatePem: first(body, ['certificate', 'certificate_pem', 'pem'], parseCertificatePem) };
}

/**
 * A keypair in Software Trust's listing, as far as the keypair check needs it. Field names are the ones recorded
 * from a real tenant (ebourg/jsign, jsign-crypto/src/test/resources/services/digicertone-keypairs.json) and read by
 * DigiCert's Jenkins plugin (`limit_by_users`, `users[].id`); each is `undefined` when the answer lacks it, so the
 * check can say exactly what it could not confirm.
 */
export interface Keypair {
  id: Id;
  alias: KeypairAlias | undefined;
  /** `is_signable_by_me`: the server's own answer to "may the caller sign with it" (recorded: `true`). */
  signableByMe: boolean | undefined;
  /** `limit_by_users`: true when only the assigned users and groups may use it (smctl `--restricted`). */
  limitByUsers: boolean | undefined;
  /** `users[].id`: the users it is assigned to. */
  users: Id[] | undefined;
  /** `groups[]`: the groups (teams) it is assigned to; membership is not in the answer. */
  groups: { id: Id; name: Name | undefined }[] | undefined;
  /** `certificates[]`: each with `certificate_status` (ACTIVE, REVOKED, EXPIRED…) and `default_cert`. */
  certificates: KeypairCertificate[] | undefined;
  /** `number_of_active_certificates`. */
  activeCertificates: number | undefined;
}

export interface KeypairCertificate {
  id: Id;
  /** Certificate aliases are read with the keypair alias's character set (recorded: `jsign-2022-cert`). */
  alias: KeypairAlias | undefined;
  /** `certificate_status`: ACTIVE is the one state that signs usefully. */
  status: Code | undefined;
  /** `default_cert`: the one smctl uses when given only the keypair. */
  isDefault: boolean | undefined;
  /** `valid_to`, as a UTC day. */
  validTo: UtcDay | undefined;
}

/** The Software Trust keypair fields the keypair check reads (recorded names; docs/api.md). */
export const KEYPAIR_CHECK_FIELDS = ['is_signable_by_me', 'limit_by_users', 'users', 'groups', 'certificates', 'number_of_active_certificates'] as const;

const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

function parseKeypairCertificate(x: Obj): KeypairCertificate | undefined {
  const id = parseId(x.id);
  return id ? { id, alias: parseKeypairAlias(x.alias), status: parseCode(x.certificate_status), isDefault: bool(x.default_cert), validTo: parseUtcDay(x.valid_to) } : undefined;
}

export function parseKeypair(x: Obj): Keypair | undefined {
  const id = parseId(x.id);
  if (!id) return undefined;
  const objects = (v: unknown): Obj[] | undefined => (Array.isArray(v) ? v.filter(isObj) : undefined);
  const count = x.number_of_active_certificates;
  return {
    id,
    alias: parseKeypairAlias(x.alias),
    signableByMe: bool(x.is_signable_by_me),
    limitByUsers: bool(x.limit_by_users),
    users: objects(x.users)?.map((u) => parseId(u.id)).filter((u): u is Id => u !== undefined),
    groups: objects(x.groups)?.flatMap((g) => {
      const gid = parseId(g.id);
      return gid ? [{ id: gid, name: parseName(g.name) }] : [];
    }),
    certificates: objects(x.certificates)
      ?.map(parseKeypairCertificate)
      .filter((c): c is KeypairCertificate => c !== undefined),
    activeCertificates: typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : undefined,
  };
}

function parseSecret(v: unknown): string | undefined {
  return typeof v === 'string' && SECRET.test(v) ? v : undefined;
}

/** Retry-After in seconds or as an HTTP date ("Error handling and rate limits"), as ms from `now`; else undefined. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value || value.length > 64) return undefined;
  const v = value.trim();
  if (/^\d{1,6}$/.test(v)) return Number(v) * 1000;
  // An IMF-fixdate (RFC 9110): letters, digits, spaces, commas and colons only.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
