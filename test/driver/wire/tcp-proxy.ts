import { AddressInfo, createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a server, to cut a client off without touching the server: while
 * `blocked`, open connections are dropped and new ones closed at once; while `frozen`, open
 * connections stay open but carry nothing (a hung server) and new ones are closed at once; while
 * `repliesDropped`, requests still reach the server but nothing it sends reaches the client (the
 * replies to requests it applies are lost).
 */
export class TcpProxy {
  blocked = false;
  frozen = false;
  repliesDropped = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined = undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.blocked || proxy.frozen) {
        client.destroy();
        return;
      }
      const upstream = connect({ host: targetHost, port: targetPort });
      proxy.track(client);
      proxy.track(upstream);
      const live = proxy;
      client.on('data', (chunk: Buffer) => live.frozen || upstream.write(chunk));
      upstream.on(
        'data',
        (chunk: Buffer) => live.frozen || live.repliesDropped || client.write(chunk),
      );
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server);
    return proxy;
  }

  get connectString(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Drops every connection and refuses new ones until `unblock()`. */
  block(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
