/**
 * What the contract suite runs against: the emulator (in `npm test`), or a real tenant (`npm run test:live`, which
 * sets D1_CONTRACT_TARGET=live). Both go through the action's own inputs parsing, bootstrap connection, HTTP client
 * and D1Client: the same code path a real run takes. Every D1_LIVE_* value is parsed here, once.
 */
import { loadClientCertificate } from '../../src/keys/bootstrap-certificate.js';
import { systemClock } from '../../src/platform/clock.js';
import { readFileSync } from 'node:fs';
import type { Id, Name } from '../../src/d1/wire.js';
import { randomBytes } from 'node:crypto';
import { bootstrapConnection } from '../../src/job/connect.js';
import { D1Client, type ClientOptions } from '../../src/d1/client.js';
import { createHttpClient, trustAnchors, type HttpClient } from '../../src/platform/http.js';
import { parseAuth, parseHost, parseScope, type Auth, type ScopeEntry } from '../../src/runner/inputs.js';
import { D1Emulator } from '../../emulator/server.js';
import { seedScenario } from '../../emulator/scenario.js';

/** Every name the suite creates starts with this, so the final sweep (and a person) can find leftovers. */
export const CONTRACT_PREFIX = 'd1ta-contract-';

/** The variables `npm run test:live` reads; the first three are required. */
export const LIVE_VARS = {
  D1_LIVE_HOST: 'the DigiCert ONE host, e.g. demo.one.digicert.com',
  D1_LIVE_API_KEY: 'bootstrap API token with Account Manager "Manage users" on the target user\'s account (or D1_LIVE_CLIENT_CERT)',
  D1_LIVE_SERVICE_USER_ID: 'id of a service user the bootstrap may mint tokens for (tokens named d1ta-contract-* are made and deleted)',
  D1_LIVE_CLIENT_CERT: 'optional: bootstrap by client certificate instead of the API key (base64 .p12, or PEM)',
  D1_LIVE_CLIENT_CERT_PASSWORD: 'optional: password of that .p12 (or of an encrypted PEM key)',
  D1_LIVE_CLIENT_KEY: 'optional: PEM key of a PEM D1_LIVE_CLIENT_CERT',
  D1_LIVE_SCOPE: "optional: roles for the scope contract, as the scope input ('Software Trust: Signer'); an ephemeral service user d1ta-contract-* is made and deleted",
  D1_LIVE_CA_FILE: 'optional: a PEM CA to trust (a TLS-inspecting proxy, or the standalone emulator)',
} as const;

export const REQUIRED_LIVE = ['D1_LIVE_HOST', 'D1_LIVE_SERVICE_USER_ID'] as const;

/** What is missing for a live run: the required variables, and one bootstrap credential (API key or certificate). */
export function missingLive(env: NodeJS.ProcessEnv): string[] {
  const missing: string[] = REQUIRED_LIVE.filter((n) => !env[n]?.trim());
  if (!env.D1_LIVE_API_KEY?.trim() && !env.D1_LIVE_CLIENT_CERT?.trim()) missing.push('D1_LIVE_API_KEY (or D1_LIVE_CLIENT_CERT)');
  return missing;
}

/** The emulator targets `npm test` runs the suite against: both ways the action authenticates. */
export const EMULATOR_AUTH = ['api-key', 'client-cert'] as const;

export interface ContractTarget {
  mode: 'emulator' | 'live';
  /** host[:port] as the host input takes it. */
  host: string;
  auth: Auth;
  serviceUserId: Id;
  scope: ScopeEntry[] | undefined;
  /** A client as the action builds it, with observers. */
  client(observe?: Pick<ClientOptions, 'onAnswer' | 'trace'>): D1Client;
  /** A client that authenticates with a minted token, as the action's client-certificate-for-job request does. */
  clientAs(apiKey: string, observe?: Pick<ClientOptions, 'onAnswer' | 'trace'>): D1Client;
  /** What a later step does with a minted token: GET /user/me with it on the plain host. Returns the status. */
  statusWith(apiKey: string): Promise<number>;
  /** A unique name with the prefix (letters, digits, dashes: valid as a token or service user name). */
  name(what: string): Name;
  /** The emulator behind an emulator target (undefined live): lets a contract test choose its error-body shape. */
  emulator?: D1Emulator;
  close(): Promise<void>;
}

export async function openTarget(env: NodeJS.ProcessEnv = process.env, emulatorAuth: (typeof EMULATOR_AUTH)[number] = 'api-key'): Promise<ContractTarget> {
  if (env.D1_CONTRACT_TARGET === 'live') return liveTarget(env);
  const emu = await D1Emulator.start();
  const s = seedScenario(emu);
  // An end date on the bootstrap, so the emulator states its spelling of that optional field too.
  s.bootstrap.user.end_date = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  let auth: Auth = { kind: 'api-key', apiKey: s.bootstrap.apiKey };
  if (emulatorAuth === 'client-cert') {
    const pair = emu.issueClientCert(s.bootstrap.user.id);
    const inputs: Record<string, string> = { 'client-certificate': pair.certPem, 'client-key': pair.keyPem };
    auth = parseAuth((name) => inputs[name] ?? '', new Date(), loadClientCertificate);
  }
  const target = build({
    mode: 'emulator',
    host: emu.host,
    auth,
    serviceUserId: s.signer.id as Id,
    scope: parseScope('Software Trust: Signer'),
    ca: emu.caPem,
    env: {},
  });
  return {
    ...target,
    emulator: emu,
    close: async () => {
      await target.close();
      await emu.close();
    },
  };
}

function liveTarget(env: NodeJS.ProcessEnv): ContractTarget {
  const missing = missingLive(env);
  if (missing.length) throw new Error(`D1_CONTRACT_TARGET=live needs ${missing.join(', ')}`);
  const inputs: Record<string, string | undefined> = {
    'api-key': env.D1_LIVE_CLIENT_CERT?.trim() ? '' : env.D1_LIVE_API_KEY,
    'client-certificate': env.D1_LIVE_CLIENT_CERT,
    'client-certificate-password': env.D1_LIVE_CLIENT_CERT_PASSWORD,
    'client-key': env.D1_LIVE_CLIENT_KEY,
  };
  const auth = parseAuth((name) => inputs[name] ?? '', new Date(), loadClientCertificate);
  const serviceUserId = env.D1_LIVE_SERVICE_USER_ID!.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(serviceUserId)) throw new Error('D1_LIVE_SERVICE_USER_ID is not a user id (letters, digits and dashes).');
  return build({
    mode: 'live',
    host: parseHost(env.D1_LIVE_HOST!, 'D1_LIVE_HOST', auth.kind),
    auth,
    serviceUserId: serviceUserId as Id,
    scope: env.D1_LIVE_SCOPE?.trim() ? parseScope(env.D1_LIVE_SCOPE) : undefined,
    ca: env.D1_LIVE_CA_FILE?.trim() ? readFileSync(env.D1_LIVE_CA_FILE.trim(), 'utf8') : undefined,
    env,
  });
}

function build(o: { mode: 'emulator' | 'live'; host: string; auth: Auth; serviceUserId: string; scope: ScopeEntry[] | undefined; ca: string | undefined; env: NodeJS.ProcessEnv }): ContractTarget {
  const https: HttpClient[] = [];
  // A CA of the target's own (the emulator's) is trusted as the action trusts a proxy's CA: as tls-ca-certificates would add it.
  const ca = trustAnchors(o.ca ? [o.ca] : []);
  const proxyEnv = { HTTPS_PROXY: o.env.HTTPS_PROXY, NO_PROXY: o.env.NO_PROXY } as NodeJS.ProcessEnv;
  const open = (host: string, auth: Auth): HttpClient => {
    const conn = bootstrapConnection(host, auth);
    const http = createHttpClient({ ...conn.http, env: proxyEnv, ca });
    https.push(http);
    return http;
  };
  const secrets = o.auth.kind === 'api-key' ? [o.auth.apiKey] : [];
  return {
    mode: o.mode,
    host: o.host,
    auth: o.auth,
    serviceUserId: o.serviceUserId as Id,
    scope: o.scope,
    client(observe = {}) {
      const conn = bootstrapConnection(o.host, o.auth);
      return new D1Client(open(o.host, o.auth), { host: conn.requestHost, secrets, deadline: systemClock.now() + 60_000, clock: systemClock, authKind: o.auth.kind, ...observe });
    },
    clientAs(apiKey, observe = {}) {
      return new D1Client(open(o.host, { kind: 'api-key', apiKey }), { host: o.host, secrets: [...secrets, apiKey], deadline: systemClock.now() + 60_000, clock: systemClock, ...observe });
    },
    async statusWith(apiKey) {
      const http = open(o.host, { kind: 'api-key', apiKey });
      const res = await http.send('GET', '/account/api/v1/user/me', undefined, 30_000);
      return res.status;
    },
    name(what) {
      return `${CONTRACT_PREFIX}${what}-${randomBytes(4).toString('hex')}` as Name;
    },
    async close() {
      await Promise.all(https.map((h) => h.close()));
    },
  };
}
