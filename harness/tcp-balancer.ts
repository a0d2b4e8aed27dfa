/**
 * A round-robin TCP balancer in front of broker replicas (`npm run demo -- --broker --replicas N`): each new
 * connection goes to the next replica, TLS passing through untouched, as a layer-4 load balancer (a Kubernetes
 * Service, an NLB) sends a job's calls to whichever replica it picks. It counts the connections each replica took, so
 * the demo can show main's exchange and post's revoke landing on different replicas.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpBalancer {
  readonly served: number[];
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    ports: number[],
  ) {
    this.served = ports.map(() => 0);
  }

  static async start(ports: number[]): Promise<TcpBalancer> {
    let b: TcpBalancer | undefined;
    const server = createServer((client) => {
      const i = b!.next++ % ports.length;
      b!.served[i]! += 1;
      const upstream = connect(ports[i]!, '127.0.0.1');
      for (const s of [client, upstream]) {
        b!.sockets.add(s);
        s.on('close', () => b!.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    b = new TcpBalancer(server, (server.address() as { port: number }).port, ports);
    return b;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
