/**
 * The one place that turns the step's inputs (and the environment fallbacks) into a typed configuration.
 * Every error names the input and says how to fix it; none repeats a secret's value.
 */
import { NAME_MAX_LENGTH, NAME_PATTERN, defaultTokenName, type RunInfo } from './naming.js';

export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
  }
}

export interface ApiKeyAuth {
  kind: 'api-key';
  apiKey: string;
}
export type Auth = ApiKeyAuth;

export interface Config {
  /** host[:port], lower case, never with the `clientauth.` prefix. */
  host: string;
  /** https://host[:port] that requests go to. */
  baseUrl: string;
  auth: Auth;
  /** The user the token is minted for; `me` means the bootstrap identity (allowed for standard users only). Empty with `scope`. */
  serviceUserId: string;
  /** With `scope`: an ephemeral service user with exactly these roles is created (and deleted in post). */
  scoped: ScopedConfig | undefined;
  tokenName: string;
  /** UTC day, YYYY-MM-DD: the token stops working at 23:59:59 UTC that day. */
  endDate: string;
  exportEnv: boolean;
  /** Delete this repository's tokens from runs that are over before minting. */
  cleanupStale: boolean;
  staleAfterHours: number;
  /** Warn when the bootstrap identity ends within this many days (0: do not check). */
  expiryWarningDays: number;
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
  applicationCode: string;
  /** Role names as Account Manager shows them, or role ids. */
  roles: string[];
}

export interface ScopedConfig {
  scope: ScopeEntry[];
  /** Account ids; empty means the bootstrap user's primary account. */
  accounts: string[];
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
    const code = MANAGERS[manager.toLowerCase()] ?? (/^[a-z][a-z0-9_]*$/.test(manager) ? manager : undefined);
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

function bool(getInput: GetInput, name: string, fallback: boolean): boolean {
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

export function parseStepConfig(getInput: GetInput): StepConfig {
  return {
    skipRevoke: bool(getInput, 'skip-revoke', false),
    jobSummary: bool(getInput, 'job-summary', true),
    timeoutSeconds: int(getInput, 'timeout-seconds', 1, 600, 60, 'seconds one step may take, retries included'),
  };
}

/** Accepts `host`, `host:port`, `https://host[:port][/]`; refuses anything else with the reason. */
export function parseHost(raw: string, inputName: string): string {
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
  if (name.startsWith(CLIENTAUTH)) {
    throw new InputError(
      inputName,
      `'${name}' is the mutual-TLS host, which needs a client certificate; with api-key give the host without '${CLIENTAUTH}' (e.g. ${name.slice(CLIENTAUTH.length)}).`,
    );
  }
  return port ? `${name}:${port}` : name;
}

function utcDay(d: Date, addDays: number): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + addDays));
  return t.toISOString().slice(0, 10);
}

export function parseConfig(getInput: GetInput, env: NodeJS.ProcessEnv, run: RunInfo, now: Date): Config {
  const apiKey = getInput('api-key').trim();
  if (!apiKey) {
    throw new InputError('api-key', 'is required: pass the bootstrap API token from a secret, e.g. api-key: ${{ secrets.D1_BOOTSTRAP_TOKEN }}. Is the secret defined and available to this workflow (secrets are not passed to workflows from forks)?');
  }
  if (/\s/.test(apiKey)) {
    throw new InputError('api-key', 'contains white space inside the value; store the API token alone in the secret (no quotes, no "x-api-key:" prefix).');
  }

  const hostInput = getInput('host').trim();
  const dcBase = (env.DC_BASE ?? '').trim();
  const host = hostInput ? parseHost(hostInput, 'host') : dcBase ? parseHost(dcBase, 'host (from DC_BASE)') : DEFAULT_HOST;

  const serviceUserId = getInput('service-user-id').trim();
  const scopeRaw = getInput('scope');
  const scope = scopeRaw.trim() ? parseScope(scopeRaw) : undefined;
  if (scope && serviceUserId) {
    throw new InputError('scope', 'and service-user-id are alternatives: scope creates a new service user with just those roles; service-user-id mints for an existing one. Give one of them.');
  }
  const accounts = getInput('accounts').split(/[\s,]+/).filter(Boolean);
  if (accounts.length && !scope) throw new InputError('accounts', 'applies only with scope (the accounts of the ephemeral service user).');
  for (const a of accounts) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(a)) throw new InputError('accounts', `'${a.slice(0, 40)}' is not an account id; list ids separated by commas or new lines.`);
  }
  const email = getInput('service-user-email').trim();
  if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new InputError('service-user-email', 'expected an e-mail address (DigiCert ONE sends nothing to it).');
  if (!serviceUserId && !scope) {
    throw new InputError(
      'service-user-id',
      'is required: DigiCert ONE service users cannot create API tokens for themselves. Give the id of the narrowly scoped service user this job should act as (Account Manager > Service users), or `me` when api-key is an administrator\'s own API token; or set scope to create a service user with just the roles this job needs.',
    );
  }
  if (serviceUserId && !USER_ID.test(serviceUserId)) {
    throw new InputError('service-user-id', 'expected a user id such as 5b1c0e2a-8f3d-4c1e-9a7b-2d6f0e1c3b4a (letters, digits and dashes) or `me`.');
  }

  const nameInput = getInput('token-name').trim();
  if (nameInput && !(NAME_PATTERN.test(nameInput) && nameInput.length <= NAME_MAX_LENGTH)) {
    throw new InputError('token-name', `may contain only letters, digits, spaces, dashes and underscores, at most ${NAME_MAX_LENGTH} characters.`);
  }
  const tokenName = nameInput || defaultTokenName(run);

  const lifetimeDays = int(getInput, 'lifetime-days', 0, MAX_LIFETIME_DAYS, 1, 'UTC days; 0 ends today at 23:59:59 UTC; the post step revokes the token anyway');

  return {
    host,
    baseUrl: `https://${host}`,
    auth: { kind: 'api-key', apiKey },
    serviceUserId,
    scoped: scope ? { scope, accounts, email: email || `${tokenName.toLowerCase().replace(/[^a-z0-9-]+/g, '.')}@noreply.invalid` } : undefined,
    tokenName,
    endDate: utcDay(now, lifetimeDays),
    exportEnv: bool(getInput, 'export-env', false),
    cleanupStale: bool(getInput, 'cleanup-stale', false),
    staleAfterHours: int(getInput, 'stale-after-hours', 1, 24 * 35, 24, 'hours after which a token of an earlier run counts as left over'),
    expiryWarningDays: int(getInput, 'expiry-warning-days', 0, 365, 14, 'days before the bootstrap identity ends to start warning; 0 turns the check off'),
    step: parseStepConfig(getInput),
  };
}
