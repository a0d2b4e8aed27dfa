/**
 * The one place that talks HTTP. Everything above it sees `HttpClient.send` and plain JSON.
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import * as tls from 'node:tls';
// 'undici' is shims/undici: the parts of undici this action uses, from their own modules (see shims/README.md).
import { Agent, buildConnector, EnvHttpProxyAgent, type Dispatcher, type ProxyAgent } from 'undici';

/** A client certificate for mutual TLS, as undici hands it to tls.connect (keys/bootstrap-certificate.ts makes it from the inputs). */
export interface ClientTls {
  pfx?: Buffer;
  cert?: string;
  key?: string;
  passphrase?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when the body is not JSON, or undefined when empty or too large. */
  body: unknown;
  /** The body was larger than MAX_BODY_BYTES and was not read. */
  tooLarge?: boolean;
}

/** No answer the action reads is anywhere near this; a larger one is not read (a hostile 256 MiB body stays on the wire). */
export const MAX_BODY_BYTES = 1024 * 1024;

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpClient {
  /** One request; `timeoutMs` bounds it whole (connect, headers, body). */
  send(method: HttpMethod, path: string, body: unknown, timeoutMs: number): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpOptions {
  baseUrl: string;
  headers: Record<string, string>;
  env: NodeJS.ProcessEnv;
  /** Client certificate for mutual TLS, held in memory and given to the TLS handshake. */
  tls?: ClientTls;
  /** The only CAs trusted for this connection (trustAnchors): never what the environment names. */
  ca: readonly string[];
}

/**
 * The CAs every connection trusts: Node's bundled Mozilla roots, plus the certificates the workflow gave in the
 * tls-ca-certificates input (a TLS-inspecting proxy's CA). Passing `ca` explicitly means NODE_EXTRA_CA_CERTS and the
 * system store are not consulted: any earlier step of the job can set those (GITHUB_ENV), and a CA it plants
 * would let a man in the middle read the bootstrap credential.
 */
export function trustAnchors(extra: readonly string[] = []): string[] {
  return [...tls.rootCertificates, ...extra];
}

/** Variables that steer where requests go or how TLS is checked; any earlier step can set them (GITHUB_ENV). */
const NETWORK_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

export interface NetworkEnvironment {
  /** A digest of the proxy settings: main saves it, and post sends the bootstrap credential only along the same path. */
  digest: string;
  /** Variables that would turn TLS verification off: ignored, with a warning. */
  weakening: string[];
  /** Variables that would add trust: not used, said in the log. */
  notUsed: string[];
}

export function networkEnvironment(env: NodeJS.ProcessEnv): NetworkEnvironment {
  const hash = createHash('sha256');
  for (const name of NETWORK_VARS) hash.update(`${name}=${env[name] ?? ''}\n`);
  const weakening = env.NODE_TLS_REJECT_UNAUTHORIZED === '0' ? ['NODE_TLS_REJECT_UNAUTHORIZED'] : [];
  const notUsed = env.NODE_EXTRA_CA_CERTS ? ['NODE_EXTRA_CA_CERTS'] : [];
  return { digest: hash.digest('hex').slice(0, 32), weakening, notUsed };
}

/** What the log says about variables the action does not obey (both steps say it). */
export function sayNetworkEnvironment(net: NetworkEnvironment, log: { warning(m: string): void; info(m: string): void }): void {
  for (const name of net.weakening) {
    log.warning(`${name}=0 is set in this step's environment and is ignored: the action always verifies DigiCert ONE's TLS certificate, so the bootstrap credential cannot be sent to a man in the middle.`);
  }
  for (const name of net.notUsed) {
    log.info(`${name} is set and is not used for DigiCert ONE (an earlier step of the job could set it); a TLS-inspecting proxy's CA goes in the tls-ca-certificates input.`);
  }
}

/**
 * The broker's trust (a service its operators configure, unlike a job's environment): Node's default store (bundled
 * roots and the broker process's own NODE_EXTRA_CA_CERTS; getCACertificates is Node >= 22.15) plus `extra`.
 */
export function serviceTrust(extra?: string): string[] {
  // A namespace lookup, not a named import: Node 20 (which loads this module, never the broker) has no getCACertificates.
  const get = (tls as { getCACertificates?: (kind: 'default') => string[] }).getCACertificates;
  const base = typeof get === 'function' ? get('default') : tls.rootCertificates;
  return [...base, ...(extra ? [extra] : [])];
}

/**
 * RFC 6761 section 6.3: `localhost` and every name below it are loopback. glibc resolves `localhost` but not
 * `clientauth.localhost`, which is the mutual-TLS name of a DigiCert ONE served on localhost (the emulator, or a
 * local tunnel); every other name goes to the system resolver unchanged.
 */
export const loopbackSubdomainLookup: LookupFunction = (hostname, options, callback) => {
  if (!hostname.toLowerCase().endsWith('.localhost')) {
    dnsLookup(hostname, options, callback as never);
    return;
  }
  const address = options.family === 6 ? '::1' : '127.0.0.1';
  const family = options.family === 6 ? 6 : 4;
  // net.connect asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
  if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
  else callback(null, address, family);
};

/** A failure below HTTP: DNS, TCP, TLS or a timeout. `code` is Node's or undici's error code. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

function usesProxy(env: NodeJS.ProcessEnv): boolean {
  return PROXY_VARS.some((name) => Boolean(env[name]));
}

/** Passwords in proxy URLs (`http://user:password@proxy:3128`): secrets too, to mask and scrub like the inputs. */
export function proxyPasswords(env: NodeJS.ProcessEnv): string[] {
  const found = new Set<string>();
  for (const name of PROXY_VARS) {
    try {
      const password = new URL(env[name] ?? '').password;
      if (password) {
        found.add(password);
        found.add(decodeURIComponent(password));
      }
    } catch {
      // Not a URL: undici reports that itself, and there is no password to hide.
    }
  }
  return [...found];
}

function errorCode(err: unknown): string {
  let e: unknown = err;
  // undici wraps the socket error in `cause`.
  for (let i = 0; i < 3 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return (err as { code?: string })?.code ?? 'UNKNOWN';
}

/** undici 6 warns on stderr that EnvHttpProxyAgent is experimental: noise in every proxied step's log that no user can act on. */
function withoutExperimentalWarning<T>(make: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(typeof warning === 'string' ? warning : warning.message).includes('EnvHttpProxyAgent is experimental')) {
      (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
    }
  }) as typeof process.emitWarning;
  try {
    return make();
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * undici 6 on Node 20 can leave a request unsettled when a TLS server closes the connection right after the
 * handshake (as DigiCert ONE's clientauth. host does for a refused certificate): the close comes before undici
 * listens for it. A request still waiting this long after a connection closed is failed as a dropped connection.
 */
const STALL_MS = 1000;

/** undici's own connector, which also reports every socket's close, from the moment the socket exists. */
function watchedConnector(options: buildConnector.BuildOptions, onClose: () => void): buildConnector.connector {
  const base = buildConnector(options);
  return (opts, callback) =>
    base(opts, (err, socket) => {
      socket?.once('close', onClose);
      // The callback's overloads (error or socket) do not accept the pair as typed; undici passes exactly this.
      (callback as (e: Error | null, s: typeof socket) => void)(err, socket);
    });
}

/**
 * The TLS context of a trust list, built once per process: building one parses every CA certificate (Node's ~150
 * roots and tls-ca-certificates), ~10 ms of CPU that tls.connect would otherwise spend on every connection (a step
 * with a job certificate opens several; `npm run bench:load` opens two per job). Only without a client certificate:
 * with one, the context would hold its key, and the client keeps the per-connection path.
 */
const trustContexts = new Map<string, tls.SecureContext>();
function trustContext(ca: readonly string[]): tls.SecureContext {
  // Keyed by the certificates after Node's roots when the list starts with them (trustAnchors' lists all do: the
  // same string objects, compared in a moment), so a key is not ~200 KB of roots joined again for every client.
  const roots = tls.rootCertificates.length <= ca.length && tls.rootCertificates.every((pem, i) => ca[i] === pem);
  const key = roots ? `roots\n${ca.slice(tls.rootCertificates.length).join('\n')}` : ca.join('\n');
  let context = trustContexts.get(key);
  if (!context) {
    if (trustContexts.size >= 4) trustContexts.clear();
    context = tls.createSecureContext({ ca: [...ca] });
    trustContexts.set(key, context);
  }
  return context;
}

export function createHttpClient(opts: HttpOptions): HttpClient {
  const pending = new Set<() => void>();
  // rejectUnauthorized is explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off.
  const verified = { ca: [...opts.ca], rejectUnauthorized: true };
  // The same trust either way: `ca` makes tls.connect build the context itself; `secureContext` is that context, built once.
  const connect = opts.tls
    ? { ...opts.tls, ...verified, lookup: loopbackSubdomainLookup }
    : { secureContext: trustContext(opts.ca), rejectUnauthorized: true, lookup: loopbackSubdomainLookup };
  const dispatcher: Dispatcher = usesProxy(opts.env)
    ? withoutExperimentalWarning(
        () =>
          new EnvHttpProxyAgent({
            // Direct connections (NO_PROXY hosts) use `connect`; through a proxy the TLS session to DigiCert ONE runs
            // inside the CONNECT tunnel and takes `requestTls`: the certificate goes there, never to the proxy.
            // (EnvHttpProxyAgent passes its options on to ProxyAgent; its type just does not list requestTls.)
            connect,
            requestTls: { ...opts.tls, ...verified },
            // An https:// proxy is verified against the same CAs (its own TLS session carries only the CONNECT line).
            proxyTls: verified,
            httpProxy: opts.env.HTTP_PROXY ?? opts.env.http_proxy,
            httpsProxy: opts.env.HTTPS_PROXY ?? opts.env.https_proxy,
            noProxy: opts.env.NO_PROXY ?? opts.env.no_proxy,
          } as EnvHttpProxyAgent.Options & Pick<ProxyAgent.Options, 'requestTls' | 'proxyTls'>),
      )
    : new Agent({ connect: watchedConnector(connect, () => {
      for (const watch of pending) watch();
    }) });

  return {
    async send(method, path, body, timeoutMs) {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const controller = new AbortController();
      let fail: (err: NetworkError) => void = () => undefined;
      const guard = new Promise<never>((_, reject) => (fail = reject));
      const stop = (err: NetworkError): void => {
        controller.abort();
        fail(err);
      };
      // A ref'd timer, not AbortSignal.timeout (unref'd): if a request is never settled, the step must still end
      // with an error instead of Node exiting early with code 13 (unsettled top-level await).
      const timer = setTimeout(() => stop(new NetworkError(`no answer within ${Math.round(timeoutMs / 1000)} s`, 'ETIMEDOUT')), Math.max(1, timeoutMs));
      let stallTimer: NodeJS.Timeout | undefined;
      const onDisconnect = (): void => {
        stallTimer ??= setTimeout(() => stop(new NetworkError('the connection closed before an answer arrived', 'UND_ERR_SOCKET')), STALL_MS);
      };
      pending.add(onDisconnect);
      let res: Dispatcher.ResponseData;
      let text: string | undefined;
      try {
        const work = (async () => {
          const url = new URL(path, opts.baseUrl);
          const r = await dispatcher.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: controller.signal,
          });
          return { r, t: await readCapped(r.body as unknown as AsyncIterable<Buffer> & { destroy(): unknown }) };
        })();
        ({ r: res, t: text } = await Promise.race([work, guard]));
      } catch (err) {
        if (err instanceof NetworkError) throw err;
        throw new NetworkError(err instanceof Error ? err.message : String(err), errorCode(err));
      } finally {
        clearTimeout(timer);
        clearTimeout(stallTimer);
        pending.delete(onDisconnect);
      }
      let parsed: unknown;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      return { status: res.statusCode, headers: flat, body: parsed, ...(text === undefined ? { tooLarge: true } : {}) };
    },
    async close() {
      // destroy, not close: a keep-alive socket would hold the step open for seconds. Bounded, because on Node 20
      // undici's destroy() can stay unsettled after a refused client certificate, and the step must still end.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([dispatcher.destroy().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 500)))]);
      clearTimeout(timer);
    },
  };
}
