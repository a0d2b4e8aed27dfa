/**
 * The action as a client of the organisation's credential broker (broker/, docs/broker.md): the third way to
 * authenticate, where the job holds no DigiCert ONE secret. It proves who it is with its GitHub OIDC token, and the
 * broker mints what its policy grants this job. This module: the inputs of that mode, and the broker's API as the
 * action calls it (https only, TLS verified, through src/platform/http.ts). The steps are in job/broker.ts.
 */
import { parseCertificatePem, parseId, parseName, parseUtcDay, type Id, type Name, type UtcDay } from '../d1/wire.js';
import type { HttpClient, HttpOptions } from '../platform/http.js';
import { NetworkError } from '../platform/http.js';
import { InputError, bool, parseKeypairAliasInput, parseStepConfig, parseTrust, type GetInput, type StepConfig } from '../runner/inputs.js';
import { refuseInapplicable } from '../runner/input-modes.js';
import type { KeypairAlias } from '../d1/wire.js';
import { logSafe } from '../platform/text-safety.js';
import { redact } from '../platform/text-safety.js';
import { USER_AGENT } from '../platform/version.js';

export interface BrokerInputs {
  /** https://host[:port][/base], without a trailing slash. */
  url: string;
  host: string;
  policy: string;
  audience: string;
  exportEnv: boolean;
  clientCertificateForJob: boolean;
  /** With client-certificate-for-job: the keypair both factors are checked against once the broker has answered. */
  keypairAlias: KeypairAlias | undefined;
  /** The CAs TLS trusts for the broker and the ID-token service: Node's roots plus tls-ca-certificates (inputs.ts). */
  trust: string[];
  step: StepConfig;
}

const BOOTSTRAP_INPUTS = ['api-key', 'client-certificate', 'client-key', 'client-certificate-password'] as const;

export function parseBrokerInputs(getInput: GetInput): BrokerInputs {
  const raw = getInput('broker-url').trim();
  for (const name of BOOTSTRAP_INPUTS) {
    if (getInput(name).trim()) {
      throw new InputError(
        'broker-url',
        `are two ways to authenticate: with broker-url the job holds no DigiCert ONE secret (the broker does). Remove ${name}, or broker-url.`,
        `Inputs 'broker-url' and '${name}'`,
      );
    }
  }
  // Every input this mode does not honour (runner/input-modes.ts): refused by name, never ignored.
  refuseInapplicable(getInput, 'broker');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError('broker-url', `'${logSafe(raw, 100)}' is not a URL; expected e.g. https://d1-broker.example.com.`);
  }
  if (url.protocol !== 'https:') throw new InputError('broker-url', 'must be an https:// URL: the job sends its OIDC token there and gets a credential back.');
  if (url.username || url.password || url.search || url.hash) throw new InputError('broker-url', 'must not contain credentials, a query or a fragment.');
  const policy = getInput('broker-policy').trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(policy)) {
    throw new InputError('broker-policy', policy ? 'must be a policy name (letters, digits, dots, dashes, underscores; at most 64).' : 'is required with broker-url: the name of the broker policy this job asks for.');
  }
  const audience = getInput('broker-audience').trim() || url.origin;
  if (audience.length > 256 || /\s/.test(audience)) throw new InputError('broker-audience', 'must be one value without white space (at most 256 characters).');
  const step = parseStepConfig(getInput);
  const clientCertificateForJob = bool(getInput, 'client-certificate-for-job', false);
  if (clientCertificateForJob && step.skipRevoke) {
    throw new InputError('client-certificate-for-job', 'cannot go with skip-revoke: true. The post step must remove the PKCS#12 file and have the broker revoke the certificate.');
  }
  const keypairAlias = parseKeypairAliasInput(getInput, false, clientCertificateForJob);
  return { url: url.href.replace(/\/+$/, ''), host: url.host, policy, audience, exportEnv: bool(getInput, 'export-env', false), clientCertificateForJob, keypairAlias, trust: parseTrust(getInput), step };
}

/** What the broker minted, parsed as any outside answer is. */
export interface BrokerCredential {
  lease: string;
  kind: 'api-token' | 'service-user';
  token: string;
  tokenId: Id | '';
  tokenName: Name;
  userId: Id;
  serviceUserId: Id | '';
  /** '' when DigiCert ONE confirmed no end date. */
  endDate: UtcDay | '';
  /** DigiCert ONE host[:port] the token works on. */
  host: string;
  scope: string[];
  certificate: { id: Id; pem: string } | undefined;
}

export interface Mismatch {
  claim: string;
  expected: string[];
  actual?: string;
}

/** 503 codes with which the broker says it made nothing: a replica stopping, its ledger out of reach, DigiCert ONE's pace. */
export const NOTHING_MADE_503 = new Set(['stopping', 'ledger_unavailable', 'digicert_busy']);

/** A broker answer that is not what was asked for; the message is for the job log (clean, scrubbed). */
export class BrokerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    /** The request may have been carried out (no answer): post still asks the broker to revoke the lease. */
    readonly maybeCommitted = false,
    /** Seconds the broker asked the job to wait (Retry-After, seconds form) before it asks again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;
const SECRET = /^[\x21-\x7e]{8,512}$/;

export function parseCredential(body: unknown): BrokerCredential | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const kind = b.kind === 'api-token' || b.kind === 'service-user' ? b.kind : undefined;
  const token = typeof b.token === 'string' && SECRET.test(b.token) ? b.token : undefined;
  const optionalId = (v: unknown): Id | '' | undefined => (v === '' ? '' : parseId(v));
  const tokenId = optionalId(b.tokenId);
  const serviceUserId = optionalId(b.serviceUserId);
  const tokenName = parseName(b.tokenName);
  const userId = parseId(b.userId);
  // '' when DigiCert ONE confirmed no end date (the broker never passes on the one it asked for).
  const endDate = b.endDate === '' ? ('' as const) : parseUtcDay(b.endDate);
  const host = typeof b.host === 'string' && HOST.test(b.host) ? b.host : undefined;
  if (!kind || !token || tokenId === undefined || serviceUserId === undefined || !tokenName || !userId || endDate === undefined || !host || typeof b.lease !== 'string') return undefined;
  let certificate: BrokerCredential['certificate'];
  if (b.certificate !== undefined) {
    const c = (b.certificate ?? {}) as Record<string, unknown>;
    const id = parseId(c.id);
    const pem = parseCertificatePem(c.pem);
    if (!id || !pem) return undefined;
    certificate = { id, pem };
  }
  const scope = Array.isArray(b.scope) ? b.scope.filter((x): x is string => typeof x === 'string').slice(0, 20).map((x) => logSafe(x, 100)) : [];
  return { lease: b.lease, kind, token, tokenId, tokenName, userId, serviceUserId, endDate, host, scope, certificate };
}

export interface BrokerApiOptions {
  inputs: BrokerInputs;
  env: NodeJS.ProcessEnv;
  createHttp: (opts: HttpOptions) => HttpClient;
  /** Epoch ms on the step's clock; the remaining budget bounds each call. */
  deadline: number;
  now: () => number;
  /** Values to scrub from any broker text we repeat (the tokens). */
  secrets: () => string[];
}

/** One call to the broker, with the job's OIDC token as the bearer. Each token is used once (the broker refuses a replay). */
export async function callBroker(o: BrokerApiOptions, path: '/v1/credentials' | '/v1/revoke' | '/v1/check', idToken: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const http = o.createHttp({ baseUrl: `${o.inputs.url}/`, headers: { authorization: `Bearer ${idToken}`, 'user-agent': USER_AGENT }, env: o.env, ca: o.inputs.trust });
  const where = `the broker at ${o.inputs.host}`;
  try {
    const res = await http.send('POST', `${o.inputs.url}${path}`, body, Math.max(1, o.deadline - o.now()));
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
    throw refusal(o, res.status, res.body, res.headers['retry-after']);
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    const code = logSafe(err.code, 60);
    // Certificate problems are not "unreachable": the broker was reached and its identity not proven.
    if (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/.test(err.code)) {
      throw new BrokerError(`The TLS certificate of ${where} could not be verified (${code}): the broker must present a certificate for ${o.inputs.host} from a CA this runner trusts (a private CA: put its certificate in the tls-ca-certificates input; NODE_EXTRA_CA_CERTS is not used).`, 'tls');
    }
    const maybe = path === '/v1/credentials' && !/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(err.code);
    if (/TIMEOUT|TIMEDOUT/.test(err.code)) {
      throw new BrokerError(`${where.replace(/^t/, 'T')} did not answer within timeout-seconds (${code}).${maybe ? ' It may still be minting: the post step asks it to revoke whatever it made for this job.' : ''}`, 'timeout', undefined, maybe);
    }
    throw new BrokerError(`${where.replace(/^t/, 'T')} could not be reached (${code}). Check broker-url, and that the runner can reach it (firewall, HTTPS_PROXY / NO_PROXY).`, 'unreachable', undefined, maybe);
  } finally {
    await http.close();
  }
}

function refusal(o: BrokerApiOptions, status: number, body: unknown, retryAfter: string | undefined): BrokerError {
  const e = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof e?.code === 'string' && /^[a-z_]{1,40}$/.test(e.code) ? e.code : 'error';
  const said = logSafe(redact(typeof e?.message === 'string' ? e.message : `answered ${status}`, o.secrets()), 1500);
  const lead = `The broker at ${o.inputs.host} refused (${status} ${code}): ${said}`;
  const wait = retryAfter && /^\d{1,5}$/.test(retryAfter) ? Number(retryAfter) : undefined;
  switch (code) {
    case 'policy_refused':
      return new BrokerError(`${lead}. This job's OIDC claims do not match policy '${o.inputs.policy}': run it where the policy allows (branch, environment, event, workflow), or ask the broker's operator to change the policy.`, code, status);
    case 'unknown_policy':
      return new BrokerError(`${lead}. Check broker-policy.`, code, status);
    case 'invalid_token':
      return new BrokerError(`${lead}.${/aud/.test(said) ? ` broker-audience (now ${logSafe(o.inputs.audience, 100)}) must be the audience the broker is configured with.` : ''}`, code, status);
    case 'rate_limited':
      return new BrokerError(`${lead}. Try again${wait !== undefined ? ` in ${wait} s` : ' later'}.`, code, status, false, wait);
    case 'stopping':
    case 'ledger_unavailable':
    case 'digicert_busy':
      // The broker made nothing (it says so for these three): the step may ask again, as main does within its budget.
      return new BrokerError(`${lead}. Try again${wait !== undefined ? ` in ${wait} s` : ' later'}.`, code, status, false, wait);
    default:
      return new BrokerError(`${lead}${status >= 500 ? '. The broker or DigiCert ONE behind it failed: re-run the job; if it persists, tell the broker\'s operator (its audit log has this request).' : '.'}`, code, status, status >= 500 && status !== 503);
  }
}
