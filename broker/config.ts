/**
 * The broker's configuration: a JSON file (`--config`, or D1_BROKER_CONFIG) naming everything else by path, and the
 * bootstrap secret from a file or the environment. Relative paths are relative to the config file. The secret goes
 * nowhere but DigiCert ONE (src/job/connect.ts decides how: x-api-key, or the client certificate on clientauth.).
 *
 * {
 *   "listen": {"host": "0.0.0.0", "port": 8443},
 *   "tls": {"certFile": "tls.crt", "keyFile": "tls.key"},
 *   "audience": "https://d1-broker.example.com",            // what jobs request their OIDC token for
 *   "issuer": "https://token.actions.githubusercontent.com", // default; GHES: https://HOST/_services/token
 *   "jwksUrl": "...",                                       // default <issuer>/.well-known/jwks
 *   "digicertHost": "one.digicert.com",
 *   "bootstrap": {"apiKeyFile": "..."} | {"clientCertificateFile": "...", "clientKeyFile"?: "...", "passwordFile"?: "..."},
 *   "policyFile": "policy.json", "ledgerFile": "/var/lib/d1-broker/ledger.sqlite", "auditLog": "-" (stdout) | path,
 *   "maxAgeMinutes": 360, "sweepIntervalSeconds": 60, "heartbeatSeconds": 10, "clockSkewSeconds": 60, "timeoutSeconds": 60,
 *   "rateLimit": {"perMinute": 60, "burst": 30}, "extraCaFile": "...",
 *   "ledger": {"postgres": {"urlFile": "...", "caFile": "..."}},  // replicas: PostgreSQL instead of ledgerFile
 *   "digicertPace": {"perSecond": 40, "burst": 10}  // the bootstrap key's request budget, all replicas together
 * }
 * Environment instead of files: D1_BROKER_API_KEY, D1_BROKER_CLIENT_CERTIFICATE_PASSWORD, D1_BROKER_DATABASE_URL
 * (with "ledger": {"postgres": {}}; the URL's password is a secret like the others).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadClientCertificate } from '../src/keys/bootstrap-certificate.js';
import { parseHost, type Auth } from '../src/runner/inputs.js';
import { GITHUB_ISSUER } from './id-token.js';
import { parsePolicies, type Policy } from './policy.js';
import { unknownKey } from './schema.js';

/** Every key the config file may have, by object (a typo is a start-up error naming the nearest of these). */
const KEYS: Record<string, readonly string[]> = {
  '': ['$schema', 'listen', 'tls', 'audience', 'issuer', 'jwksUrl', 'digicertHost', 'bootstrap', 'policyFile', 'ledgerFile', 'ledger', 'auditLog', 'maxAgeMinutes', 'sweepIntervalSeconds', 'heartbeatSeconds', 'clockSkewSeconds', 'timeoutSeconds', 'rateLimit', 'extraCaFile', 'http', 'digicertPace'],
  listen: ['host', 'port'],
  tls: ['certFile', 'keyFile'],
  bootstrap: ['apiKeyFile', 'clientCertificateFile', 'clientKeyFile', 'passwordFile'],
  rateLimit: ['perMinute', 'burst'],
  ledger: ['postgres'],
  'ledger.postgres': ['urlFile', 'caFile'],
  http: ['requestTimeoutSeconds', 'headersTimeoutSeconds', 'maxConnections'],
  digicertPace: ['perSecond', 'burst'],
};

function strictKeys(o: Obj, file: string): void {
  for (const [where, known] of Object.entries(KEYS)) {
    const v = where ? where.split('.').reduce<unknown>((x, k) => (x as Obj | undefined)?.[k], o) : o;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
    const stray = unknownKey(v, known, where);
    if (stray) throw new ConfigError(`${file}: ${stray}`);
  }
}

export interface BrokerConfig {
  listen: { host: string; port: number };
  tls: { certPem: string; keyPem: string; certFile: string; keyFile: string };
  audience: string;
  issuer: string;
  jwksUrl: string;
  /** host[:port] of DigiCert ONE (never with clientauth.; a client certificate adds it). */
  digicertHost: string;
  auth: Auth;
  /** Every secret value the broker holds, to scrub from anything it writes. */
  secrets: string[];
  policies: Policy[];
  /** The SQLite ledger's file; '' when the ledger is in PostgreSQL. */
  ledgerFile: string;
  /** The shared ledger of replicas: node-postgres' connection string (TLS by its sslmode, or caPem). */
  postgres?: { url: string; caPem?: string };
  /** '-' for stdout, else a file appended to. */
  auditLog: string;
  maxAgeMs: number;
  /** 0: no scheduled sweep (tests call sweep()). */
  sweepIntervalMs: number;
  /** How often a replica says it is alive in the ledger (a dead one's in-flight creates are revoked after 3 of these). */
  heartbeatMs: number;
  clockSkewSeconds: number;
  timeoutSeconds: number;
  rateLimit: { perMinute: number; burst: number };
  /** The bootstrap key's request budget at DigiCert ONE, shared by all replicas (broker/pace.ts); none when absent. */
  digicertPace?: { perSecond: number; burst: number };
  extraCaPem: string | undefined;
  /** The policy file's path (read again on SIGHUP). */
  policyFile: string;
  /** Limits of the HTTPS listener. */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; maxConnections: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(`broker config: ${message}`);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function httpsUrl(name: string, v: unknown): string {
  if (typeof v !== 'string') throw new ConfigError(`${name} is required (an https:// URL)`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.search || u.hash) throw new ConfigError(`${name} must be an https:// URL without credentials, query or fragment`);
  return v.replace(/\/+$/, '');
}

function num(o: Obj, name: string, fallback: number, min: number, max: number): number {
  const v = o[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return v;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv, now: Date): BrokerConfig {
  const base = dirname(resolve(file));
  const path = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || !v) throw new ConfigError(`${name} is required (a file path)`);
    return resolve(base, v);
  };
  const read = (v: unknown, name: string): string => {
    const p = path(v, name);
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  let o: Obj;
  try {
    o = JSON.parse(readFileSync(file, 'utf8')) as Obj;
  } catch (err) {
    throw new ConfigError(`${file}: ${err instanceof SyntaxError ? 'not JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable')}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ConfigError(`${file}: not a JSON object`);
  strictKeys(o, file);

  const listen = (o.listen ?? {}) as Obj;
  const tls = (o.tls ?? {}) as Obj;
  const issuer = o.issuer === undefined ? GITHUB_ISSUER : httpsUrl('issuer', o.issuer);
  let digicertHost: string;
  try {
    digicertHost = parseHost(String(o.digicertHost ?? ''), 'digicertHost', 'client-cert');
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }

  const { auth, secrets } = bootstrap((o.bootstrap ?? {}) as Obj, env, now, read, path);
  const policyFile = path(o.policyFile, 'policyFile');
  const policies = loadPolicies(policyFile);
  const rate = (o.rateLimit ?? {}) as Obj;
  const http = (o.http ?? {}) as Obj;
  const postgres = postgresLedger(o.ledger, env, read);
  if (postgres) secrets.push(...postgresSecrets(postgres.url));
  return {
    listen: { host: typeof listen.host === 'string' ? listen.host : '0.0.0.0', port: num(listen, 'port', 8443, 0, 65535) },
    tls: { certPem: read(tls.certFile, 'tls.certFile'), keyPem: read(tls.keyFile, 'tls.keyFile'), certFile: path(tls.certFile, 'tls.certFile'), keyFile: path(tls.keyFile, 'tls.keyFile') },
    audience: ((): string => {
      if (typeof o.audience !== 'string' || !o.audience.trim() || o.audience.length > 256) throw new ConfigError('audience is required: the value jobs request their OIDC token for (e.g. the broker\'s URL)');
      return o.audience;
    })(),
    issuer,
    jwksUrl: o.jwksUrl === undefined ? `${issuer}/.well-known/jwks` : httpsUrl('jwksUrl', o.jwksUrl),
    digicertHost,
    auth,
    secrets,
    policies,
    ledgerFile: postgres ? '' : path(o.ledgerFile, 'ledgerFile'),
    ...(postgres ? { postgres } : {}),
    auditLog: o.auditLog === undefined || o.auditLog === '-' ? '-' : path(o.auditLog, 'auditLog'),
    maxAgeMs: num(o, 'maxAgeMinutes', 360, 1, 60 * 24 * 8) * 60_000,
    sweepIntervalMs: num(o, 'sweepIntervalSeconds', 60, 0, 86_400) * 1000,
    heartbeatMs: num(o, 'heartbeatSeconds', 10, 1, 600) * 1000,
    clockSkewSeconds: num(o, 'clockSkewSeconds', 60, 0, 300),
    timeoutSeconds: num(o, 'timeoutSeconds', 60, 1, 600),
    rateLimit: { perMinute: num(rate, 'perMinute', 60, 1, 100_000), burst: num(rate, 'burst', 30, 1, 100_000) },
    ...(o.digicertPace === undefined ? {} : { digicertPace: pace(o.digicertPace) }),
    extraCaPem: o.extraCaFile === undefined ? undefined : caBundle(read(o.extraCaFile, 'extraCaFile'), path(o.extraCaFile, 'extraCaFile')),
    policyFile,
    http: {
      requestTimeoutMs: num(http, 'requestTimeoutSeconds', 30, 1, 600) * 1000,
      headersTimeoutMs: num(http, 'headersTimeoutSeconds', 10, 1, 600) * 1000,
      maxConnections: num(http, 'maxConnections', 512, 1, 100_000),
    },
  };
}

/** The policy file, parsed; its errors name the file (also what SIGHUP reads again). */
export function loadPolicies(file: string): Policy[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`policyFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return parsePolicies(JSON.parse(text));
  } catch (err) {
    throw new ConfigError(`${file}: ${err instanceof SyntaxError ? 'not JSON' : err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A CA file must hold at least one certificate that parses, each of them: a wrong file is a start-up error with its
 * path, not a job's "401 invalid_token" later (the JWKS fetch failing TLS).
 */
function caBundle(pem: string, file: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`extraCaFile: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch {
      throw new ConfigError(`extraCaFile: certificate ${i + 1} of ${file} does not parse`);
    }
  }
  return pem;
}

/** The bootstrap credential, from files (a mounted secret) or the environment; never from the config file itself. */
function bootstrap(
  b: Obj,
  env: NodeJS.ProcessEnv,
  now: Date,
  read: (v: unknown, name: string) => string,
  path: (v: unknown, name: string) => string,
): { auth: Auth; secrets: string[] } {
  const apiKey = (b.apiKeyFile !== undefined ? read(b.apiKeyFile, 'bootstrap.apiKeyFile') : (env.D1_BROKER_API_KEY ?? '')).trim();
  if (b.clientCertificateFile === undefined) {
    if (!apiKey || /\s/.test(apiKey)) throw new ConfigError('bootstrap: give bootstrap.apiKeyFile or D1_BROKER_API_KEY (one API token, no white space), or bootstrap.clientCertificateFile');
    return { auth: { kind: 'api-key', apiKey }, secrets: [apiKey] };
  }
  if (apiKey) throw new ConfigError('bootstrap: give an API key or a client certificate, not both');
  let raw: Buffer;
  try {
    raw = readFileSync(path(b.clientCertificateFile, 'bootstrap.clientCertificateFile'));
  } catch (err) {
    throw new ConfigError(`bootstrap.clientCertificateFile: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // PEM text as it is; a binary PKCS#12 as base64, the form loadClientCertificate reads.
  const certificate = raw.includes('-----BEGIN ') ? raw.toString('utf8') : raw.toString('base64');
  const key = b.clientKeyFile !== undefined ? read(b.clientKeyFile, 'bootstrap.clientKeyFile') : '';
  const password = (b.passwordFile !== undefined ? read(b.passwordFile, 'bootstrap.passwordFile') : (env.D1_BROKER_CLIENT_CERTIFICATE_PASSWORD ?? '')).trim();
  try {
    const loaded = loadClientCertificate({ certificate, key, password }, now);
    return { auth: { kind: 'client-cert', tls: loaded.tls, certificate: loaded.info }, secrets: [certificate, key, password].filter(Boolean) };
  } catch (err) {
    throw new ConfigError(`bootstrap: ${err instanceof Error ? err.message.replace(/Input '[^']+': /, '') : String(err)}`);
  }
}

/** `"ledger": {"postgres": {"urlFile"?, "caFile"?}}`: the URL from its file (a mounted secret) or D1_BROKER_DATABASE_URL. */
function postgresLedger(l: unknown, env: NodeJS.ProcessEnv, read: (v: unknown, name: string) => string): BrokerConfig['postgres'] {
  if (l === undefined) return undefined;
  const p = (l as Obj | null)?.postgres;
  if (typeof l !== 'object' || l === null || typeof p !== 'object' || p === null) throw new ConfigError('ledger must be {"postgres": {"urlFile"?: "...", "caFile"?: "..."}} (or left out for ledgerFile)');
  const po = p as Obj;
  const url = (po.urlFile !== undefined ? read(po.urlFile, 'ledger.postgres.urlFile') : (env.D1_BROKER_DATABASE_URL ?? '')).trim();
  if (!url) throw new ConfigError('ledger.postgres: give ledger.postgres.urlFile or D1_BROKER_DATABASE_URL (postgres://user:password@host:5432/database)');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('ledger.postgres: the database URL does not parse (postgres://user:password@host:5432/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new ConfigError(`ledger.postgres: the database URL must start postgres:// (host ${u.hostname})`);
  return { url, ...(po.caFile !== undefined ? { caPem: read(po.caFile, 'ledger.postgres.caFile') } : {}) };
}

/** The URL and its password, as written and decoded, to scrub from anything the broker writes. */
function postgresSecrets(url: string): string[] {
  const u = new URL(url);
  return [url, u.password, u.password && decodeURIComponent(u.password)].filter((s): s is string => Boolean(s));
}

function pace(v: unknown): NonNullable<BrokerConfig['digicertPace']> {
  if (typeof v !== 'object' || v === null) throw new ConfigError('digicertPace must be {"perSecond": N, "burst"?: N}');
  const o = v as Obj;
  const perSecond = num(o, 'perSecond', 0, 1, 10_000);
  const burst = num(o, 'burst', perSecond, 1, 100_000);
  return { perSecond, burst };
}
