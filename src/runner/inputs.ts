/**
 * The one place that turns the step's inputs (and the environment fallbacks) into a typed configuration.
 * Every error names the input and says how to fix it; none repeats a secret's value.
 */
import type { CertificateInfo, CertificateInputs, ClientCertificate, ClientTls } from '../keys/bootstrap-certificate.js';
import { KEYPAIR_ALIAS_MAX, parseCode, parseId, parseKeypairAlias, parseName, utcDayOf, type Code, type Id, type KeypairAlias, type Name, type UtcDay } from '../d1/wire.js';
import { X509Certificate } from 'node:crypto';
import { trustAnchors } from '../platform/http.js';
import { InputError } from '../platform/input-error.js';
import { NAME_MAX_LENGTH, defaultTokenName, ownName, type RunInfo } from '../credentials/naming.js';
import { refuseInapplicable } from './input-modes.js';

export { InputError };

export interface ApiKeyAuth {
  kind: 'api-key';
  apiKey: string;
}
/** Mutual TLS: requests go to clientauth.<host> with the certificate in the handshake and no x-api-key. */
export interface ClientCertAuth {
  kind: 'client-cert';
  tls: ClientTls;
  certificate: CertificateInfo;
}
export type Auth = ApiKeyAuth | ClientCertAuth;

/** Inputs whose values are secrets: masked first thing in both steps, scrubbed from every message. */
export const SECRET_INPUTS = ['api-key', 'client-certificate', 'client-key', 'client-certificate-password'] as const;

/** Every form of the secret inputs that could be printed: the values, and a line-wrapped base64 value joined. */
export function secretInputValues(getInput: GetInput): string[] {
  const values: string[] = [];
  for (const name of SECRET_INPUTS) {
    const v = getInput(name);
    if (!v.trim()) continue;
    values.push(v);
    const compact = v.replace(/\s+/g, '');
    if (!v.includes('-----') && compact !== v.trim()) values.push(compact);
  }
  return values;
}

export interface Config {
  /** host[:port], lower case, never with the `clientauth.` prefix (client-cert requests add it). */
  host: string;
  /** https://host[:port]: where the minted API token works. */
  baseUrl: string;
  auth: Auth;
  /** The user the token is minted for; `me` means the bootstrap identity (allowed for standard users only). Empty with `scope`. */
  serviceUserId: Id | 'me' | '';
  /** With `scope`: an ephemeral service user with exactly these roles is created (and deleted in post). */
  scoped: ScopedConfig | undefined;
  tokenName: Name;
  /** UTC day, YYYY-MM-DD: the token stops working at 23:59:59 UTC that day. */
  endDate: UtcDay;
  exportEnv: boolean;
  /**
   * Also make a client authentication certificate for the job's user (the second factor Software Trust asks for),
   * handed over as a PKCS#12 file under RUNNER_TEMP with a random password; post disables it and removes the file.
   */
  clientCertificateForJob: boolean;
  /**
   * With client-certificate-for-job: right after both factors are made, main checks with them that the job's user
   * can use this Software Trust keypair (src/job/keypair-check.ts), before the build spends time.
   */
  keypairAlias: KeypairAlias | undefined;
  /** Delete this repository's tokens from runs that are over before minting. */
  cleanupStale: boolean;
  staleAfterHours: number;
  /** Warn when the bootstrap identity ends within this many days (0: do not check). */
  expiryWarningDays: number;
  /**
   * Whether to read the bootstrap user only for that check. By default the check rides on a read the action makes
   * anyway (`me`, `scope`), so naming a service user costs one request; an explicit expiry-warning-days asks for it.
   */
  expiryCheckAlways: boolean;
  /** Warn when the client certificate ends within this many days. */
  certificateExpiryWarningDays: number;
  /** The CAs TLS trusts: Node's roots plus tls-ca-certificates (never NODE_EXTRA_CA_CERTS, which the job's env can set). */
  trust: string[];
  step: StepConfig;
}

/** What both steps read from the inputs besides the secrets. */
export interface StepConfig {
  skipRevoke: boolean;
  jobSummary: boolean;
  /** Time budget of one step, retries included. */
  timeoutSeconds: number;
}

export interface ScopeEntry {
  /** As the user wrote it, for messages. */
  manager: string;
  applicationCode: Code;
  /** Role names as Account Manager shows them, or role ids. */
  roles: string[];
}

export interface ScopedConfig {
  scope: ScopeEntry[];
  /** Account ids; empty means the bootstrap user's primary account. */
  accounts: Id[];
  email: string;
}

export type GetInput = (name: string) => string;

/** Manager names as users see them in DigiCert ONE, to the application codes the role listing takes. */
export const MANAGERS: Record<string, string> = {
  'account manager': 'account_manager',
  'software trust': 'secure_software_manager',
  'software trust manager': 'secure_software_manager',
  'secure software manager': 'secure_software_manager',
  'trust lifecycle': 'mpki',
  'trust lifecycle manager': 'mpki',
  'private ca': 'private_ca',
  'ca manager': 'private_ca',
  'document trust': 'document_trust_manager',
  'document trust manager': 'document_trust_manager',
  'iot trust': 'iot',
  'iot trust manager': 'iot',
};

/** `Manager: role, role` per line; a manager may also be given by its application code. */
export function parseScope(raw: string): ScopeEntry[] {
  const entries: ScopeEntry[] = [];
  for (const [i, line] of raw.split(/\r?\n/).entries()) {
    const text = line.replace(/#.*$/, '').trim();
    if (!text) continue;
    const colon = text.indexOf(':');
    const manager = colon > 0 ? text.slice(0, colon).trim() : '';
    const roles = colon > 0 ? text.slice(colon + 1).split(',').map((r) => r.trim()).filter(Boolean) : [];
    if (!manager || roles.length === 0) {
      throw new InputError('scope', `line ${i + 1} should read 'Manager: role[, role…]', e.g. 'Software Trust: Signer'.`);
    }
    const code = parseCode(MANAGERS[manager.toLowerCase()] ?? (/^[a-z][a-z0-9_]*$/.test(manager) ? manager : undefined));
    if (!code) {
      throw new InputError('scope', `line ${i + 1}: unknown manager '${manager.slice(0, 40)}'; known: ${[...new Set(Object.keys(MANAGERS).map((k) => k.replace(/\b\w/g, (c) => c.toUpperCase())))].join(', ')} (or an application code such as secure_software_manager).`);
    }
    entries.push({ manager, applicationCode: code, roles });
  }
  return entries;
}

export const DEFAULT_HOST = 'one.digicert.com';
export const MAX_LIFETIME_DAYS = 7;
const CLIENTAUTH = 'clientauth.';
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
const USER_ID = /^(me|[A-Za-z0-9][A-Za-z0-9-]{0,63})$/;

export function bool(getInput: GetInput, name: string, fallback: boolean): boolean {
  const raw = getInput(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(raw)) return true;
  if (['false', 'no', '0', 'off'].includes(raw)) return false;
  throw new InputError(name, `expected true or false, got '${raw.slice(0, 20)}'.`);
}

function int(getInput: GetInput, name: string, min: number, max: number, fallback: number, meaning: string): number {
  const raw = getInput(name).trim();
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InputError(name, `expected a whole number from ${min} to ${max} (${meaning}), got '${raw.slice(0, 20)}'.`);
  }
  return Number(raw);
}

const MAX_CA_CERTIFICATES = 16;
const MAX_CA_INPUT = 256 * 1024;

/**
 * tls-ca-certificates: PEM CA certificates to trust besides Node's bundled roots (a TLS-inspecting proxy's CA on a
 * self-hosted runner). An input, because the workflow's author writes it; NODE_EXTRA_CA_CERTS is any earlier step's.
 */
export function parseTrust(getInput: GetInput): string[] {
  const name = 'tls-ca-certificates';
  const raw = getInput(name).trim();
  if (!raw) return trustAnchors();
  if (raw.length > MAX_CA_INPUT) throw new InputError(name, `is longer than ${MAX_CA_INPUT / 1024} KiB; give only the CA certificates the proxy needs.`);
  const blocks = raw.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const rest = raw.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '').trim();
  if (blocks.length === 0 || rest) throw new InputError(name, 'expected PEM certificates only (-----BEGIN CERTIFICATE----- blocks), e.g. your proxy\'s CA certificate.');
  if (blocks.length > MAX_CA_CERTIFICATES) throw new InputError(name, `holds ${blocks.length} certificates; at most ${MAX_CA_CERTIFICATES}.`);
  for (const [i, pem] of blocks.entries()) {
    let ca = false;
    try {
      ca = new X509Certificate(pem).ca;
    } catch {
      throw new InputError(name, `certificate ${i + 1} is not a readable X.509 certificate.`);
    }
    if (!ca) throw new InputError(name, `certificate ${i + 1} is not a CA certificate (basicConstraints CA:TRUE); give the CA that signs the proxy's certificates.`);
  }
  return trustAnchors(blocks);
}

/** broker-url: the job authenticates through the organisation's broker (src/job/broker.ts) and holds no DigiCert ONE secret. */
export function usesBroker(getInput: GetInput): boolean {
  return getInput('broker-url').trim() !== '';
}

/** `preflight: true` checks the set-up read-only instead of minting (src/steps/preflight.ts). */
export function parsePreflight(getInput: GetInput): boolean {
  return bool(getInput, 'preflight', false);
}

export function parseStepConfig(getInput: GetInput): StepConfig {
  return {
    skipRevoke: bool(getInput, 'skip-revoke', false),
    jobSummary: bool(getInput, 'job-summary', true),
    timeoutSeconds: int(getInput, 'timeout-seconds', 1, 600, 60, 'seconds one step may take, retries included'),
  };
}

/**
 * Accepts `host`, `host:port`, `https://host[:port][/]`; refuses anything else with the reason. A `clientauth.`
 * host is refused with an API token; with a client certificate the prefix is dropped (the action adds it).
 */
export function parseHost(raw: string, inputName: string, kind: Auth['kind'] = 'api-key'): string {
  let value = raw.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) {
    if (!value.startsWith('https://')) {
      throw new InputError(inputName, `DigiCert ONE is served over HTTPS only; use https:// or give the bare host name (e.g. ${DEFAULT_HOST}).`);
    }
    value = value.slice('https://'.length);
  }
  value = value.replace(/\/+$/, '');
  if (value.includes('@')) throw new InputError(inputName, 'must not contain credentials (user@host); give the host name only.');
  if (/[/?#]/.test(value)) {
    throw new InputError(inputName, `give the host only, without a path (e.g. ${DEFAULT_HOST}, not https://${DEFAULT_HOST}/account/api/v1).`);
  }
  const m = /^(.+?)(?::(\d{1,5}))?$/.exec(value);
  const name = m?.[1] ?? '';
  const port = m?.[2];
  if (!(HOSTNAME.test(name) || IPV4.test(name)) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new InputError(inputName, `'${raw.trim().slice(0, 100)}' is not a host name; expected e.g. ${DEFAULT_HOST} or demo.one.digicert.com.`);
  }
  if (name.startsWith(CLIENTAUTH) && kind === 'client-cert') {
    const plain = name.slice(CLIENTAUTH.length);
    return port ? `${plain}:${port}` : plain;
  }
  if (name.startsWith(CLIENTAUTH)) {
    throw new InputError(
      inputName,
      `'${name}' is the mutual-TLS host, which needs a client certificate; with api-key give the host without '${CLIENTAUTH}' (e.g. ${name.slice(CLIENTAUTH.length)}).`,
    );
  }
  return port ? `${name}:${port}` : name;
}

/**
 * Where the bootstrap credential goes: the host input as the workflow's author wrote it, else production US. Never
 * the environment: DC_BASE (which DigiCert's tools read) may have been written by any earlier step of the job
 * (GITHUB_ENV), and even choosing among DigiCert ONE's own hosts would let it send a production key to another
 * region or to demo. A workflow that wants DC_BASE's value writes `host: ${{ env.DC_BASE }}` itself.
 */
export function parseTargetHost(getInput: GetInput, kind: Auth['kind']): string {
  const hostInput = getInput('host').trim();
  return hostInput ? parseHost(hostInput, 'host', kind) : DEFAULT_HOST;
}

/** Opens and checks a client certificate (keys/bootstrap-certificate.ts's loadClientCertificate). */
export type CertificateLoader = (inputs: CertificateInputs, now: Date) => ClientCertificate;

/**
 * The mutual-TLS code (PKCS#12 and PEM parsing, key checks) is a chunk of its own, loaded only when the
 * client-certificate input is set: an api-key step never loads it. Each step awaits this before parsing its inputs.
 */
export async function certificateLoader(getInput: GetInput): Promise<CertificateLoader | undefined> {
  return getInput('client-certificate').trim() ? (await import('../keys/bootstrap-certificate.js')).loadClientCertificate : undefined;
}

/**
 * The bootstrap credential: exactly one of api-key and client-certificate. Used by main and again by post, which
 * re-reads the inputs (state never holds a secret). The certificate is opened and checked here, before any request,
 * with `loadCertificate` (from certificateLoader).
 */
export function parseAuth(getInput: GetInput, now: Date, loadCertificate?: CertificateLoader): Auth {
  const apiKey = getInput('api-key').trim();
  const certificate = getInput('client-certificate').trim();
  const key = getInput('client-key').trim();
  const password = getInput('client-certificate-password').trim();
  const lead = "Inputs 'api-key' and 'client-certificate'";
  if (apiKey && certificate) {
    throw new InputError('api-key', 'are both set: give exactly one bootstrap credential, the API token or the client authentication certificate, and remove the other.', lead);
  }
  if (!apiKey && !certificate) {
    if (key || password) {
      throw new InputError('client-certificate', `is empty, but ${key ? 'client-key' : 'client-certificate-password'} is set: pass the certificate (base64 of the .p12 file, or PEM) from a secret, e.g. client-certificate: \${{ secrets.D1_CLIENT_P12_BASE64 }}. Is the secret defined and available to this workflow (secrets are not passed to workflows from forks)?`);
    }
    throw new InputError(
      'api-key',
      'one is required: pass the bootstrap API token (api-key: ${{ secrets.D1_BOOTSTRAP_TOKEN }}) or the service user\'s client authentication certificate (client-certificate: ${{ secrets.D1_CLIENT_P12_BASE64 }} with client-certificate-password), or use your organisation\'s broker (broker-url), which needs no secret in the job. Is the secret defined and available to this workflow (secrets are not passed to workflows from forks)?',
      lead,
    );
  }
  if (apiKey) {
    if (key || password) {
      throw new InputError(key ? 'client-key' : 'client-certificate-password', 'belongs to client-certificate, which is empty; with api-key leave it out.');
    }
    if (/\s/.test(apiKey)) {
      throw new InputError('api-key', 'contains white space inside the value; store the API token alone in the secret (no quotes, no "x-api-key:" prefix).');
    }
    return { kind: 'api-key', apiKey };
  }
  // A step that did not await certificateLoader: a mistake in this code, never in the inputs.
  if (!loadCertificate) throw new Error('client-certificate is set, but the client certificate code was not loaded (certificateLoader).');
  const loaded = loadCertificate({ certificate, key, password }, now);
  return { kind: 'client-cert', tls: loaded.tls, certificate: loaded.info };
}

export function parseConfig(getInput: GetInput, _env: NodeJS.ProcessEnv, run: RunInfo, now: Date, loadCertificate?: CertificateLoader): Config {
  const auth = parseAuth(getInput, now, loadCertificate);
  // Inputs of another mode (broker-policy, a client certificate's expiry warning with api-key): refused, never ignored.
  refuseInapplicable(getInput, auth.kind === 'api-key' ? 'api-key' : 'mtls');

  const host = parseTargetHost(getInput, auth.kind);

  const serviceUserIdRaw = getInput('service-user-id').trim();
  const scopeRaw = getInput('scope');
  const scope = scopeRaw.trim() ? parseScope(scopeRaw) : undefined;
  if (scope && serviceUserIdRaw) {
    throw new InputError('scope', 'and service-user-id are alternatives: scope creates a new service user with just those roles; service-user-id mints for an existing one. Give one of them.');
  }
  const accounts = getInput('accounts').split(/[\s,]+/).filter(Boolean);
  if (accounts.length && !scope) throw new InputError('accounts', 'applies only with scope (the accounts of the ephemeral service user).');
  for (const a of accounts) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(a)) throw new InputError('accounts', `'${a.slice(0, 40)}' is not an account id; list ids separated by commas or new lines.`);
  }
  const accountIds = accounts.map((a) => parseId(a)!);
  const email = getInput('service-user-email').trim();
  if (email && !scope) throw new InputError('service-user-email', 'applies only with scope (the e-mail address of the ephemeral service user).');
  if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new InputError('service-user-email', 'expected an e-mail address (DigiCert ONE sends nothing to it).');
  if (!serviceUserIdRaw && !scope) {
    throw new InputError(
      'service-user-id',
      'is required: DigiCert ONE service users cannot create API tokens for themselves. Give the id of the narrowly scoped service user this job should act as (Account Manager > Service users), or `me` when the bootstrap credential is an administrator\'s own; or set scope to create a service user with just the roles this job needs.',
    );
  }
  if (serviceUserIdRaw && !USER_ID.test(serviceUserIdRaw)) {
    throw new InputError('service-user-id', 'expected a user id such as 5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a (letters, digits and dashes) or `me`.');
  }
  const serviceUserId: Id | 'me' | '' = serviceUserIdRaw === 'me' ? 'me' : serviceUserIdRaw ? parseId(serviceUserIdRaw)! : '';

  const nameInput = getInput('token-name-prefix').trim();
  const givenName = nameInput.length <= NAME_MAX_LENGTH ? parseName(nameInput) : undefined;
  if (nameInput && !givenName) {
    throw new InputError('token-name-prefix', `may contain only letters, digits, spaces, dashes and underscores, at most ${NAME_MAX_LENGTH} characters.`);
  }
  // Unique to this step attempt either way (see ownName): recovery after a lost answer then finds only its own.
  const tokenName = (givenName ? ownName(givenName) : defaultTokenName(run)) as Name;

  const cleanupStale = bool(getInput, 'cleanup-stale', false);
  // The runner passes every action.yml default as if the user wrote it, so stale-after-hours has no default there
  // (24 is applied below): a value here was written by the user, and without cleanup-stale it would do nothing.
  if (!cleanupStale && getInput('stale-after-hours').trim()) {
    throw new InputError('stale-after-hours', 'applies only with cleanup-stale: true (it says when a credential of an earlier run counts as left over).');
  }

  const clientCertificateForJob = bool(getInput, 'client-certificate-for-job', false);
  if (clientCertificateForJob && bool(getInput, 'skip-revoke', false)) {
    throw new InputError(
      'client-certificate-for-job',
      'cannot go with skip-revoke: true. The post step must disable the certificate and remove its PKCS#12 file; leave skip-revoke off, or do without a certificate made for the job.',
    );
  }

  const keypairAlias = parseKeypairAliasInput(getInput, scope !== undefined, clientCertificateForJob);

  const lifetimeDays = int(getInput, 'lifetime-days', 0, MAX_LIFETIME_DAYS, 1, 'UTC days; 0 ends today at 23:59:59 UTC; the post step revokes the token anyway');

  return {
    host,
    baseUrl: `https://${host}`,
    auth,
    serviceUserId,
    scoped: scope ? { scope, accounts: accountIds, email: email || `${tokenName.toLowerCase().replace(/[^a-z0-9-]+/g, '.')}@noreply.invalid` } : undefined,
    tokenName,
    endDate: utcDayOf(now, lifetimeDays),
    exportEnv: bool(getInput, 'export-env', false),
    clientCertificateForJob,
    keypairAlias,
    cleanupStale,
    staleAfterHours: int(getInput, 'stale-after-hours', 1, 24 * 35, 24, 'hours after which a token of an earlier run counts as left over'),
    expiryWarningDays: int(getInput, 'expiry-warning-days', 0, 365, 14, 'days before the bootstrap identity ends to start warning; 0 turns the check off'),
    expiryCheckAlways: getInput('expiry-warning-days').trim() !== '',
    certificateExpiryWarningDays: int(getInput, 'client-certificate-expiry-warning-days', 0, 9999, 30, 'days before the client certificate ends to start warning; 0 turns the warning off'),
    trust: parseTrust(getInput),
    step: parseStepConfig(getInput),
  };
}

/**
 * `keypair-alias`: the Software Trust keypair the job will sign with. Software Trust's Signer and Developer roles sign
 * "with keypairs assigned to them" (docs.digicert.com, Software Trust Manager user roles), and a service user made
 * for the job (`scope`) has none: assigning one takes "Manage keypair" (docs.digicert.com "Update keypair access",
 * `smctl keypair update-access`), the Lead's permission, which DigiCert's secure configuration guide says never to give
 * a service user used for signing. So scope with keypair-alias is refused here, before anything is created.
 */
export function parseKeypairAliasInput(getInput: GetInput, scoped: boolean, clientCertificateForJob: boolean): KeypairAlias | undefined {
  const raw = getInput('keypair-alias').trim();
  if (!raw) return undefined;
  if (scoped) {
    throw new InputError(
      'keypair-alias',
      "a service user made for the job has no keypair assigned, and Software Trust signs only with keypairs assigned to the signer (or its team). Sign as a long-lived signer service user the keypair is assigned to: remove scope, name it in service-user-id, and keep client-certificate-for-job: true so both of its factors are still made for this job only. Keep scope for API work that needs no keypair.",
      "Inputs 'scope' and 'keypair-alias'",
    );
  }
  const alias = parseKeypairAlias(raw);
  if (!alias) {
    throw new InputError('keypair-alias', `expected a keypair alias as Software Trust shows it (Keypairs, first column; smctl keypair list): letters, digits, dots, dashes and underscores, at most ${KEYPAIR_ALIAS_MAX} characters.`);
  }
  if (!clientCertificateForJob) {
    throw new InputError(
      'keypair-alias',
      "needs client-certificate-for-job: true. The keypair check is made with both factors of the job's user (its token and its client certificate), as Software Trust requires for signing; without a certificate made for the job the action has only the token.",
    );
  }
  return alias;
}
