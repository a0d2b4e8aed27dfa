/**
 * The DigiCert ONE emulator: a real HTTPS server on 127.0.0.1 speaking the Account Manager API as documented,
 * refusing what the real service refuses, with fault knobs for tests (status, Retry-After, delay, dropped
 * connections before or after the change is committed).
 *
 * Mutual TLS: DigiCert ONE serves the same API on `clientauth.<host>`, where the client certificate in the TLS
 * handshake authenticates the caller. The emulator serves both names on ONE port, so the action's rule
 * "requests go to clientauth.<host>" holds with host = localhost:<port>: a TCP listener reads the SNI name in
 * the ClientHello (as a TLS-routing load balancer does) and hands the connection to one of two HTTPS servers.
 * The clientauth. one has `requestCert` and `rejectUnauthorized` against the emulator's client CA, so a
 * certificate it does not trust fails in the handshake with a real TLS alert, as on the real host. (Node sets
 * requestCert per server, not per SNI context, hence two servers rather than an SNICallback; accepting any
 * certificate and judging it in the request handler would turn TLS failures into HTTP answers.)
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MANAGE_USERS, Model, NAME_MAX, NAME_RE, VIEW_USERS, environmentOf, type Application, type EmuUser } from './model.js';
import { makeCert, makeServerPki, type KeyPair, type ServerPki } from './pki.js';
import { APPLICATIONS, ROLES } from './roles.js';
import { readSni } from './sni.js';
import { ApiError } from './api-error.js';
import { createClientAuthCert, setClientAuthCertEnabled } from './client-auth-certs.js';
import { SOFTWARE_TRUST, SoftwareTrust } from './software-trust.js';
import { CREATE_CLIENT_CERT, CREATE_SERVICE_USER, CREATE_TOKEN, ENABLE_CLIENT_CERT, UPDATE_TOKEN, checkBody } from './strict.js';

export const CLIENTAUTH = 'clientauth.';

export const API = '/account/api/v1';

/** Software Trust Manager's API prefix (dev.digicert.com "Software Trust Manager API"); its rules: software-trust.ts. */
export { SOFTWARE_TRUST };

export type Fault = {
  method?: string;
  /** Matched against the path without the query string. */
  path?: RegExp;
  /** How many requests it applies to (default 1). */
  times?: number;
} & (
  /** Answered before the request is carried out (nothing changes); `body`/`raw` replace the documented error JSON. */
  | { kind: 'status'; status: number; retryAfter?: string; code?: string; body?: unknown; raw?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' }
  | { kind: 'drop-after-commit' }
  /**
   * A hostile or unexpected answer: the request is carried out as usual, then the answer is rewritten (body,
   * status, headers, or raw bytes in place of JSON). For the tests that prove nothing a server says can command
   * the runner, unmask a secret, or make the action skip a revocation.
   */
  | { kind: 'rewrite'; body?: (original: unknown) => unknown; status?: number; headers?: Record<string, string>; raw?: string | Buffer }
);

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  host: string | undefined;
  /** SNI name the client asked for in the TLS handshake. */
  servername: string | undefined;
  /** Id of the API token that authenticated the call, if any. */
  tokenId: string | undefined;
  /** Id of the user whose client certificate authenticated the call (clientauth. name only). */
  clientCertUser: string | undefined;
  hadApiKey: boolean;
  userAgent: string | undefined;
  body: unknown;
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
}

export interface EmulatorOptions {
  port?: number;
  /** Names the server certificate is valid for, besides 127.0.0.1. */
  hostnames?: string[];
  /** `errors` (the documented example) or `error` (the documented structure). */
  errorShape?: 'errors' | 'error';
  pki?: ServerPki;
  /** Requests per second allowed per API key; past it, 429 with Retry-After (DigiCert publishes no number). */
  rateLimitPerSecond?: number;
  /**
   * Refuse a request body with a key the route does not know (strict.ts). Default true; false is the lenient mode,
   * for tests of how the action fares when the real service ignores what it does not know.
   */
  strictBodies?: boolean;
}


const CODES: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_api_key', 403: 'access_denied', 404: 'resource_not_found', 429: 'rate_limit_exceeded', 503: 'service_unavailable' };

/** A TLS handshake the clientauth. server refused (the request never reached the API). */
export interface HandshakeFailure {
  servername: string | undefined;
  /** OpenSSL's reason, e.g. "peer did not return a certificate" or "unknown ca". */
  reason: string;
}

export class D1Emulator {
  readonly model = new Model();
  /** Keypairs, their certificates, their assignment to users and teams, and signing (software-trust.ts). */
  readonly softwareTrust = new SoftwareTrust(this.model);
  readonly requests: RecordedRequest[] = [];
  readonly handshakeFailures: HandshakeFailure[] = [];
  readonly faults: Fault[] = [];
  /** The API on the plain name (x-api-key). */
  server!: Server;
  /** The API on the clientauth. name (client certificate, no x-api-key). */
  clientAuthServer!: Server;
  /** The one port both names are served on; routes each connection by its SNI name. */
  listener!: TcpServer;
  private sockets = new Set<Socket>();
  port = 0;
  pki!: ServerPki;
  errorShape: 'errors' | 'error' = 'errors';
  /** See EmulatorOptions.strictBodies; may be switched by a test. */
  strictBodies = true;
  rateLimitPerSecond: number | undefined;
  private readonly windows = new Map<string, { second: number; count: number }>();

  static async start(opts: EmulatorOptions = {}): Promise<D1Emulator> {
    const emu = new D1Emulator();
    emu.errorShape = opts.errorShape ?? 'errors';
    emu.rateLimitPerSecond = opts.rateLimitPerSecond;
    emu.strictBodies = opts.strictBodies ?? true;
    // `demo.localhost` is the emulator's demo environment, served on the same port (see Model.environment).
    emu.pki = opts.pki ?? makeServerPki(['localhost', 'demo.localhost', ...(opts.hostnames ?? [])]);
    const tlsId = { key: emu.pki.server.keyPem, cert: emu.pki.server.certPem };
    emu.server = createServer(tlsId, (req, res) => void emu.handle(req, res, false));
    emu.clientAuthServer = createServer(
      { ...tlsId, requestCert: true, rejectUnauthorized: true, ca: emu.pki.clientCa.certPem },
      (req, res) => void emu.handle(req, res, true),
    );
    // Node's TLS server closes the connection when the client certificate fails verification (after the TLS 1.3
    // handshake, with no alert) and sends certificate_required when there is none; the client sees either as a
    // closed connection or an alert. The reason is kept for tests: the verification error, else OpenSSL's.
    emu.clientAuthServer.on('tlsClientError', (err: Error, s: TLSSocket) => {
      const x = s as TLSSocket & { servername?: string | false; authorizationError?: Error | string };
      const verify = x.authorizationError ? String((x.authorizationError as { code?: string }).code ?? x.authorizationError) : undefined;
      emu.handshakeFailures.push({ servername: x.servername || undefined, reason: verify ?? (/:([^:]+):[^:]*:\d+:\s*$/.exec(err.message)?.[1] ?? err.message) });
    });
    emu.listener = createTcpServer((socket) => emu.dispatchBySni(socket));
    await new Promise<void>((resolve, reject) => {
      emu.listener.once('error', reject);
      emu.listener.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    emu.port = (emu.listener.address() as AddressInfo).port;
    return emu;
  }

  /** Reads the ClientHello, then hands the connection, bytes unread, to the server for its SNI name. */
  private dispatchBySni(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const sni = readSni(seen);
      if (sni === 'wait') return;
      socket.removeListener('data', onData);
      socket.pause();
      socket.unshift(seen);
      const target = sni?.startsWith(CLIENTAUTH) ? this.clientAuthServer : this.server;
      target.emit('connection', socket);
    };
    socket.on('data', onData);
  }

  /** host:port that the action's `host` input takes. */
  get host(): string {
    return `localhost:${this.port}`;
  }

  /** host:port of the emulator's demo environment: same server, but only demo users' credentials work there. */
  get demoHost(): string {
    return `demo.${this.host}`;
  }

  /** host:port of the mutual-TLS name (same port; the SNI name selects it). */
  get clientAuthHost(): string {
    return `${CLIENTAUTH}${this.host}`;
  }

  /**
   * A client authentication certificate for a user, issued by the emulator's client CA and registered to the
   * user (unless `register: false`), as Account Manager does when it issues one.
   */
  issueClientCert(userId: string, o: { notBefore?: Date; notAfter?: Date; register?: boolean } = {}): KeyPair {
    const user = this.model.users.get(userId);
    // A year by default, like Account Manager's; the action warns only within 30 days of the end.
    const notAfter = o.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    const pair = makeCert({ commonName: user?.friendly_name ?? userId, clientAuth: true, issuer: this.pki.clientCa, notBefore: o.notBefore, notAfter });
    if (o.register !== false) this.model.addClientCert(userId, pair.certPem);
    return pair;
  }

  get caPem(): string {
    return this.pki.ca.certPem;
  }

  fault(f: Fault): void {
    this.faults.push({ times: 1, ...f });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  private errorBody(code: string, message: string, path = ''): unknown {
    // Software Trust answers `{"error": {"status", "message"}}` (ebourg/jsign, DigiCertOneSigningServiceTest.java).
    if (path.startsWith(SOFTWARE_TRUST)) return { error: { status: code, message } };
    return this.errorShape === 'error' ? { error: { code, message } } : { errors: [{ code, message }] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, clientAuth: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://emulator');
    const method = req.method ?? 'GET';
    const rec: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.search,
      host: req.headers.host,
      servername: (req.socket as TLSSocket & { servername?: string | false }).servername || undefined,
      tokenId: undefined,
      clientCertUser: undefined,
      hadApiKey: req.headers['x-api-key'] !== undefined,
      userAgent: req.headers['user-agent'],
      body: undefined,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(rec);
    const raw = await readBody(req);

    const fault = this.takeFault(method, url.pathname);
    if (fault?.kind === 'drop') {
      rec.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'status') {
      rec.status = fault.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(fault.raw ?? JSON.stringify(fault.body ?? this.errorBody(fault.code ?? CODES[fault.status] ?? 'server_error', `Emulated ${fault.status}`, url.pathname)));
      return;
    }

    const limited = this.overLimit(req.headers['x-api-key']);
    if (limited) {
      rec.status = 429;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limited) }).end(JSON.stringify(this.errorBody('rate_limit_exceeded', 'Too many requests')));
      return;
    }

    let status = 500;
    let body: unknown;
    try {
      if (raw) {
        if (!/json/.test(req.headers['content-type'] ?? '')) throw new ApiError(400, 'invalid_request', 'Content-Type must be application/json');
        try {
          rec.body = JSON.parse(raw);
        } catch {
          throw new ApiError(400, 'invalid_request', 'Request body is not valid JSON');
        }
      }
      const caller = !clientAuth
        ? this.authenticate(req, rec)
        : url.pathname.startsWith(SOFTWARE_TRUST)
          ? this.authenticateTwoFactor(req, rec)
          : this.authenticateCert(req, rec);
      [status, body] = this.route(method, url, caller, rec.body, clientAuth && url.pathname.startsWith(SOFTWARE_TRUST));
    } catch (err) {
      // A bug in the stand-in answers 500 (as a server would) instead of leaving the request hanging until the
      // client's time budget runs out; the test then fails on the status, with the reason in the message.
      const e = err instanceof ApiError ? err : new ApiError(500, 'server_error', `Emulator error: ${err instanceof Error ? err.message : String(err)}`);
      status = e.status;
      body = this.errorBody(e.code, e.message, url.pathname);
    }
    rec.status = status;
    if (fault?.kind === 'drop-after-commit') {
      // The change is made; the answer never arrives.
      rec.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'rewrite') {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...fault.headers };
      const out = fault.raw ?? (fault.body ? JSON.stringify(fault.body(body)) : body === undefined ? '' : JSON.stringify(body));
      res.writeHead(fault.status ?? status, headers).end(out);
      return;
    }
    if (body === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  /** Seconds until the caller may ask again, or 0 when within the limit. */
  private overLimit(key: string | string[] | undefined): number {
    if (!this.rateLimitPerSecond || typeof key !== 'string') return 0;
    const second = Math.floor(Date.now() / 1000);
    const w = this.windows.get(key);
    if (!w || w.second !== second) {
      this.windows.set(key, { second, count: 1 });
      return 0;
    }
    w.count++;
    return w.count > this.rateLimitPerSecond ? 1 : 0;
  }

  private authenticate(req: IncomingMessage, rec: RecordedRequest): EmuUser {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !key) throw new ApiError(401, 'invalid_api_key', 'Missing x-api-key header');
    const token = this.model.findBySecret(key);
    // A disabled token answers as an unknown one (guessed: no source says what a disabled token gets; 401 is what
    // "stops working" most plausibly means, docs.digicert.com "Disable your API token").
    if (!token || token.deleted || token.disabled) throw new ApiError(401, 'invalid_api_key', 'Invalid API key');
    rec.tokenId = token.id;
    const user = this.model.users.get(token.user_id);
    if (this.model.expired(token.end_date)) throw new ApiError(401, 'invalid_api_key', 'API key has expired');
    // A key of the other environment does not exist here: the same answer as an unknown key.
    if (user && user.environment !== environmentOf(req.headers.host)) throw new ApiError(401, 'invalid_api_key', 'Invalid API key');
    if (user?.status !== 'ACTIVE') throw new ApiError(401, 'invalid_api_key', 'User is not active');
    if (this.model.expired(user.end_date)) throw new ApiError(401, 'invalid_api_key', 'User has passed its end date');
    return user;
  }

  /**
   * The clientauth. name: the handshake already verified the certificate against the client CA (and its dates);
   * here it must be registered to an active user. An x-api-key header is NOT refused: DigiCert's mutual-TLS pages
   * say to omit it ("Client authentication certificate" / "Make your first API call": the certificate replaces the
   * key), which tells clients what to send, not that the host refuses it; no source says it answers 400. The
   * certificate alone authenticates; the header is ignored (recorded in `hadApiKey`, so tests still check the
   * action omits it).
   */
  private authenticateCert(req: IncomingMessage, rec: RecordedRequest): EmuUser {
    return this.certUser(req, rec);
  }

  /**
   * Software Trust on the clientauth. name: "Two-factor authentication is required to sign your software. The API
   * key acts as the first factor of authentication and the client authentication certificate acts as the second"
   * (docs.digicert.com, Software Trust Manager "Requirements"); smctl sends SM_API_KEY as x-api-key over the
   * handshake made with SM_CLIENT_CERT_FILE. So here x-api-key is required rather than refused, and both factors
   * must be of the same active user: one user's token with another's certificate is 401, as is either factor alone.
   */
  private authenticateTwoFactor(req: IncomingMessage, rec: RecordedRequest): EmuUser {
    const certUser = this.certUser(req, rec);
    if (req.headers['x-api-key'] === undefined) {
      throw new ApiError(401, 'invalid_api_key', 'Software Trust needs both factors: an x-api-key header and the client certificate');
    }
    const keyUser = this.authenticate(req, rec);
    if (keyUser.id !== certUser.id) throw new ApiError(401, 'invalid_api_key', 'The API key and the client certificate belong to different users');
    return keyUser;
  }

  /**
   * The user whose client certificate made the handshake. Disabled, past its end date (by the model's clock; the
   * handshake already refused one past its notAfter by the real clock), unknown, or of an inactive user: 401.
   */
  private certUser(req: IncomingMessage, rec: RecordedRequest): EmuUser {
    const socket = req.socket as TLSSocket;
    const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
    const registered = cert?.fingerprint256 ? this.model.findClientCert(cert.fingerprint256) : undefined;
    if (!registered?.enabled) throw new ApiError(401, 'invalid_api_key', 'Client certificate is not registered to an active user');
    if (this.model.expired(registered.end_date)) throw new ApiError(401, 'invalid_api_key', 'Client certificate has passed its end date');
    rec.clientCertUser = registered.user_id;
    const user = this.model.users.get(registered.user_id);
    if (user && user.environment !== environmentOf(req.headers.host)) throw new ApiError(401, 'invalid_api_key', 'Client certificate is not registered to an active user');
    if (user?.status !== 'ACTIVE') throw new ApiError(401, 'invalid_api_key', 'User is not active');
    if (this.model.expired(user.end_date)) throw new ApiError(401, 'invalid_api_key', 'User has passed its end date');
    return user;
  }

  /** `twoFactor`: the call showed the API key and the client certificate of one user (Software Trust on clientauth.). */
  private route(method: string, url: URL, caller: EmuUser, body: unknown, twoFactor: boolean): [number, unknown] {
    const m = this.model;
    const p = url.pathname;
    let match: RegExpExecArray | null;

    if ((match = new RegExp(`^${API}/user/([^/]+)$`).exec(p)) && method === 'GET') {
      const id = decodeURIComponent(match[1]!);
      const user = id === 'me' ? caller : m.users.get(id);
      if (!user) throw new ApiError(404, 'resource_not_found', `User ${id} not found`);
      if (user !== caller && !(m.has(caller, VIEW_USERS) && m.sharesAccount(caller, user))) {
        throw new ApiError(403, 'access_denied', 'Not allowed to view this user');
      }
      return [200, m.publicUser(user)];
    }

    if (p === `${API}/api-access-token` && method === 'POST') {
      const b = checkBody(body, CREATE_TOKEN, this.strictBodies);
      const name = b.name;
      const userId = b.user_id;
      const endDate = b.end_date;
      if (typeof userId !== 'string' || !userId) throw new ApiError(400, 'invalid_request', 'user_id is required');
      if (typeof name !== 'string' || !name.trim()) throw new ApiError(400, 'invalid_request', 'name is required');
      if (!NAME_RE.test(name) || name.length > NAME_MAX) {
        throw new ApiError(400, 'invalid_request', 'Name must only include letters, numbers, spaces, dashes, and underscores');
      }
      if (endDate !== undefined && (typeof endDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(endDate) || Number.isNaN(Date.parse(endDate)))) {
        throw new ApiError(400, 'invalid_request', 'end_date must be a date in the form YYYY-MM-DD');
      }
      if (typeof endDate === 'string' && endDate < m.today()) throw new ApiError(400, 'invalid_request', 'end_date cannot be in the past');
      const target = m.users.get(userId);
      if (!target) throw new ApiError(404, 'resource_not_found', `User ${userId} not found`);
      const may = m.mayManageTokens(caller, target);
      if (!may.ok) throw new ApiError(403, 'access_denied', may.why);
      if (typeof endDate === 'string' && target.end_date && endDate > target.end_date) {
        throw new ApiError(400, 'invalid_request', `end_date cannot be later than the user's end date ${target.end_date}`);
      }
      for (const t of m.tokens.values()) {
        if (!t.deleted && t.user_id === userId && t.name === name) throw new ApiError(400, 'duplicate_error', `Name ${name} already exists`);
      }
      const t = m.addToken(userId, name, endDate as string | undefined);
      return [201, { ...m.publicToken(t), token: t.secret }];
    }

    if (p === `${API}/api-access-token` && method === 'GET') {
      const userId = url.searchParams.get('user_id');
      if (!userId) throw new ApiError(400, 'invalid_request', 'user_id query parameter is required');
      const target = userId === 'me' ? caller : m.users.get(userId);
      if (!target) throw new ApiError(404, 'resource_not_found', `User ${userId} not found`);
      const may = target === caller ? { ok: true as const } : m.mayManageTokens(caller, target);
      if (!may.ok) throw new ApiError(403, 'access_denied', may.why);
      return [200, [...m.tokens.values()].filter((t) => !t.deleted && t.user_id === target.id).map((t) => m.publicToken(t))];
    }

    if ((match = new RegExp(`^${API}/api-access-token/([^/]+)$`).exec(p)) && (method === 'GET' || method === 'DELETE')) {
      const t = m.tokens.get(decodeURIComponent(match[1]!));
      if (!t || t.deleted) throw new ApiError(404, 'resource_not_found', 'API token not found');
      const owner = m.users.get(t.user_id)!;
      const may = owner === caller ? { ok: true as const } : m.mayManageTokens(caller, owner);
      if (!may.ok) throw new ApiError(403, 'access_denied', may.why);
      if (method === 'GET') return [200, m.publicToken(t)];
      t.deleted = true;
      return [204, undefined];
    }

    // PUT /api-access-token/{id}: "update or disable" (dev.digicert.com "Manage API token lifecycle"); the body is not
    // public (strict.ts UPDATE_TOKEN: guessed keys). A disabled token can be re-enabled ("Disable your API token").
    if ((match = new RegExp(`^${API}/api-access-token/([^/]+)$`).exec(p)) && method === 'PUT') {
      const b = checkBody(body, UPDATE_TOKEN, this.strictBodies);
      const t = m.tokens.get(decodeURIComponent(match[1]!));
      if (!t || t.deleted) throw new ApiError(404, 'resource_not_found', 'API token not found');
      const owner = m.users.get(t.user_id)!;
      const may = owner === caller ? { ok: true as const } : m.mayManageTokens(caller, owner);
      if (!may.ok) throw new ApiError(403, 'access_denied', may.why);
      if (typeof b.name === 'string') {
        if (!NAME_RE.test(b.name) || b.name.length > NAME_MAX) throw new ApiError(400, 'invalid_request', 'Name must only include letters, numbers, spaces, dashes, and underscores');
        t.name = b.name;
      }
      if (typeof b.end_date === 'string') {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(b.end_date) || b.end_date < m.today()) throw new ApiError(400, 'invalid_request', 'end_date must be a date in the form YYYY-MM-DD, not in the past');
        t.end_date = b.end_date;
      }
      if (typeof b.enabled === 'boolean') t.disabled = !b.enabled;
      return [200, m.publicToken(t)];
    }

    if (p === `${API}/user` && method === 'GET') {
      if (!m.has(caller, VIEW_USERS)) throw new ApiError(403, 'access_denied', `Permission ${VIEW_USERS} (Account Manager: View users) is required`);
      const type = url.searchParams.get('user_type');
      return [200, [...m.users.values()].filter((u) => m.sharesAccount(caller, u) && (!type || u.user_type === type)).map((u) => m.publicUser(u))];
    }

    if (p === `${API}/user` && method === 'POST') return this.createServiceUser(caller, body);

    if ((match = new RegExp(`^${API}/user/([^/]+)$`).exec(p)) && method === 'DELETE') {
      const u = m.users.get(decodeURIComponent(match[1]!));
      if (!u) throw new ApiError(404, 'resource_not_found', 'User not found');
      if (!m.has(caller, MANAGE_USERS) || !m.sharesAccount(caller, u)) throw new ApiError(403, 'access_denied', `Permission ${MANAGE_USERS} on the user's account is required`);
      if (u.id === caller.id) throw new ApiError(400, 'invalid_request', 'A user cannot delete itself');
      m.users.delete(u.id);
      for (const t of m.tokens.values()) if (t.user_id === u.id) t.deleted = true;
      // Its client authentication certificates go with it ("if the service user expires or is disabled, any API
      // integrations using the client authentication certificate will stop working").
      for (const [fp, c] of m.clientCerts) if (c.user_id === u.id) m.clientCerts.delete(fp);
      return [204, undefined];
    }

    if (p === `${API}/role` && method === 'GET') {
      const app = url.searchParams.get('application_code');
      if (!app) throw new ApiError(400, 'invalid_request', 'application_code query parameter is required');
      if (!APPLICATIONS[app]) throw new ApiError(400, 'invalid_request', `Unknown application_code ${app}`);
      return [200, ROLES.filter((r) => r.application_code === app)];
    }

    if (p === `${API}/account` && method === 'GET') {
      return [
        200,
        caller.accounts.map((id) => {
          const a = m.accounts.get(id);
          return { id, name: a?.name ?? id, active: a?.active ?? true, service_period: { from: '2026-01-01', to: '2027-12-31' }, friendly_identifier: id, admins: [], sign_in_methods: [], locale: 'en_US' };
        }),
      ];
    }

    if (p === `${API}/client-auth-certificate` && method === 'POST') return createClientAuthCert(m, this.pki.clientCa, caller, checkBody(body, CREATE_CLIENT_CERT, this.strictBodies));
    if ((match = new RegExp(`^${API}/client-auth-certificate/([^/]+)/enable$`).exec(p)) && method === 'PUT') {
      return setClientAuthCertEnabled(m, caller, decodeURIComponent(match[1]!), checkBody(body, ENABLE_CLIENT_CERT, this.strictBodies));
    }
    // No DELETE for client authentication certificates: the tutorial lists POST and PUT .../enable only, so a DELETE
    // falls through to 404 like any unknown endpoint.

    // Software Trust: keypairs, certificates, signing. On the clientauth. name it is reached only with both factors
    // of one user (authenticateTwoFactor); on the plain name with the API key alone, which serves reads only.
    if (p.startsWith(`${SOFTWARE_TRUST}/`)) {
      const answer = this.softwareTrust.route(method, url, caller, body, twoFactor, this.strictBodies);
      if (answer) return answer;
    }

    throw new ApiError(404, 'resource_not_found', `No such endpoint: ${method} ${p}`);
  }

  /** POST /user: a service user with roles and accounts; its API token comes back once, in the answer. */
  private createServiceUser(caller: EmuUser, body: unknown): [number, unknown] {
    const m = this.model;
    if (!m.has(caller, MANAGE_USERS)) throw new ApiError(403, 'access_denied', `Permission ${MANAGE_USERS} (Account Manager: Manage users) is required`);
    const b = checkBody(body, CREATE_SERVICE_USER, this.strictBodies);
    const name = b.friendly_name;
    if (b.user_type !== 'service') throw new ApiError(400, 'invalid_request', 'user_type must be service');
    if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > NAME_MAX) {
      throw new ApiError(400, 'invalid_request', 'friendly_name is required and must only include letters, numbers, spaces, dashes, and underscores');
    }
    if (typeof b.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(b.email)) throw new ApiError(400, 'invalid_request', 'email is required');
    const endDate = b.end_date;
    if (endDate !== undefined && (typeof endDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(endDate))) throw new ApiError(400, 'invalid_request', 'end_date must be a date in the form YYYY-MM-DD');
    if (typeof endDate === 'string' && endDate < m.today()) throw new ApiError(400, 'invalid_request', 'end_date cannot be in the past');
    const accounts = b.accounts;
    if (!Array.isArray(accounts) || accounts.length === 0 || !accounts.every((a) => typeof a === 'string')) {
      throw new ApiError(400, 'invalid_request', 'Service users must be assigned to at least one account');
    }
    for (const a of accounts as string[]) {
      if (!m.accounts.has(a)) throw new ApiError(404, 'resource_not_found', `Account ${a} not found`);
      if (!caller.accounts.includes(a)) throw new ApiError(403, 'access_denied', `No access to account ${a}`);
    }
    const roleIds = b.roles;
    if (!Array.isArray(roleIds) || roleIds.length === 0) throw new ApiError(400, 'invalid_request', 'At least one role is required');
    const held = m.permissions(caller);
    const apps = new Map<string, Application>();
    for (const id of roleIds) {
      const role = ROLES.find((r) => r.id === id);
      if (!role) throw new ApiError(400, 'invalid_request', `Unknown role ${String(id)}`);
      const missing = role.permissions.filter((x) => !held.has(x));
      if (missing.length) throw new ApiError(403, 'access_denied', `Cannot grant role ${role.id}: the caller lacks ${missing.join(', ')}`);
      const app = apps.get(role.application_code) ?? { id: role.application_code, name: APPLICATIONS[role.application_code]!, permissions: [] };
      app.permissions = [...new Set([...app.permissions, ...role.permissions])];
      apps.set(role.application_code, app);
    }
    for (const u of m.users.values()) if (u.friendly_name === name) throw new ApiError(400, 'duplicate_error', `Nickname ${name} already exists`);
    const user = m.addUser({
      friendly_name: name,
      description: typeof b.description === 'string' ? b.description : '',
      email: b.email,
      user_type: 'service',
      end_date: endDate as string | undefined,
      primary_account_id: accounts[0] as string,
      accounts: accounts as string[],
      applications: [...apps.values()],
      created_by: caller.id,
    });
    const token = m.addToken(user.id, name, user.end_date);
    return [201, { ...m.publicUser(user), api_token: token.secret }];
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
