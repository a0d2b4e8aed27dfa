/**
 * A real HTTP CONNECT proxy on loopback, as a corporate proxy looks to a runner: it tunnels TLS to the target
 * (it never sees inside) and records every CONNECT target. Plain proxied requests are refused (405); `refuse`
 * makes it answer every CONNECT with that status instead (a proxy that denies the destination).
 *
 * With `mitm` it is the attacker an earlier step of the job points HTTPS_PROXY at: it terminates TLS itself with a
 * certificate for the requested name from its own CA, records every request's headers (so a test can see whether
 * the bootstrap key reached it), and answers every request with success without forwarding anything.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { loopbackSubdomainLookup } from '../src/platform/http.js';

export interface ProxyOptions {
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuse?: number;
  /** Idle timeout of a tunnel, both sides (default 10 s): a test that forgets a socket still ends. */
  idleMs?: number;
  /** Terminate TLS with this certificate (for every name the client asks for) instead of tunnelling. */
  mitm?: { certPem: string; keyPem: string };
}

/** What a man in the middle read: each request's method, path and headers. */
export interface InterceptedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export class ConnectProxy {
  /** CONNECT targets (`host:port`), in the order they arrived. */
  readonly connects: string[] = [];
  /** With `mitm`: every request it read inside a TLS session the client accepted. */
  readonly intercepted: InterceptedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private mitmServer: HttpsServer | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(opts: ProxyOptions = {}): Promise<ConnectProxy> {
    const server = createServer((_req, res) => res.writeHead(405, { connection: 'close' }).end('CONNECT only\n'));
    server.maxConnections = 32;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new ConnectProxy(server, (server.address() as AddressInfo).port);
    if (opts.mitm) {
      proxy.mitmServer = createHttpsServer({ cert: opts.mitm.certPem, key: opts.mitm.keyPem }, (req, res) => {
        proxy.intercepted.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
        req.resume();
        // Success for everything: a DELETE that "worked", a create with a plausible answer.
        if (req.method === 'DELETE') res.writeHead(204).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"mitm","token":"mitm-token","name":"mitm"}');
      });
      // A TLS failure on the client's side (it refused our certificate) is the expected outcome, not an error.
      proxy.mitmServer.on('tlsClientError', () => undefined);
    }
    server.on('connect', (req, client: Socket, head: Buffer) => proxy.tunnel(req.url ?? '', client, head, opts));
    return proxy;
  }

  /** The value for HTTPS_PROXY. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private track(s: Socket, idleMs: number): void {
    this.sockets.add(s);
    s.setTimeout(idleMs, () => s.destroy());
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private tunnel(target: string, client: Socket, head: Buffer, opts: ProxyOptions): void {
    this.connects.push(target);
    this.track(client, opts.idleMs ?? 10_000);
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target);
    if (opts.refuse || !m) {
      client.end(`HTTP/1.1 ${opts.refuse ?? 400} ${opts.refuse ? 'Refused by test proxy' : 'Bad Request'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    if (this.mitmServer) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) client.unshift(head);
      this.mitmServer.emit('connection', client);
      return;
    }
    // A proxy resolves the target itself; *.localhost is loopback (RFC 6761), as the action treats it too.
    const upstream = connect({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), lookup: loopbackSubdomainLookup });
    this.track(upstream, opts.idleMs ?? 10_000);
    let established = false;
    upstream.once('connect', () => {
      established = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    // Target unreachable: say so, as a proxy does; once tunnelling, either side closing ends both.
    upstream.once('close', (hadError: boolean) => {
      if (!established) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      else if (hadError) client.destroy();
      else client.end();
    });
    client.once('close', () => upstream.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.mitmServer?.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
