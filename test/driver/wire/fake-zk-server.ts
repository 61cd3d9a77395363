import { AddressInfo, createServer, Server, Socket } from 'node:net';

/** What a client asked for in its ConnectRequest. */
export interface FakeConnectRequest {
  lastZxid: bigint;
  timeoutMs: number;
  sessionId: bigint;
}

/** A request frame after the handshake: xid, op code and the bytes after the header. */
export interface FakeRequest {
  xid: number;
  op: number;
  body: Buffer;
}

/**
 * One client connection to a FakeZkServer: the parsed ConnectRequest, then the request frames.
 * The test answers (or misbehaves) through `accept`, `reply` and `socket`.
 */
export class FakeConnection {
  readonly requests: FakeRequest[] = [];
  connect?: FakeConnectRequest;
  onRequest: (request: FakeRequest) => void = () => undefined;
  private buffered = Buffer.alloc(0);

  constructor(
    readonly socket: Socket,
    private readonly onConnect: (connection: FakeConnection) => void,
  ) {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** Answers the ConnectRequest with a session. */
  accept(sessionId: bigint, timeoutMs: number): void {
    const frame = Buffer.alloc(4 + 36);
    frame.writeInt32BE(36, 0);
    frame.writeInt32BE(0, 4);
    frame.writeInt32BE(timeoutMs, 8);
    frame.writeBigInt64BE(sessionId, 12);
    frame.writeInt32BE(16, 20);
    this.socket.write(frame);
  }

  /** Writes a reply header (xid, zxid, err) and `body`. */
  reply(xid: number, zxid: bigint, err: number, body: Buffer = Buffer.alloc(0)): void {
    const frame = Buffer.alloc(4 + 16);
    frame.writeInt32BE(16 + body.length, 0);
    frame.writeInt32BE(xid, 4);
    frame.writeBigInt64BE(zxid, 8);
    frame.writeInt32BE(err, 16);
    this.socket.write(Buffer.concat([frame, body]));
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const length = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + length) return;
      const payload = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      if (this.connect === undefined) {
        this.connect = {
          lastZxid: payload.readBigInt64BE(4),
          timeoutMs: payload.readInt32BE(12),
          sessionId: payload.readBigInt64BE(16),
        };
        this.onConnect(this);
      } else {
        const request = {
          xid: payload.readInt32BE(0),
          op: payload.readInt32BE(4),
          body: Buffer.from(payload.subarray(8)),
        };
        this.requests.push(request);
        this.onRequest(request);
      }
    }
  }
}

/**
 * A local stand-in for a ZooKeeper server, to show how the client copes with a server that
 * misbehaves (wrong xids, sessions it did not ask for, links dropped at once): `onConnect`
 * decides what each connection does once its ConnectRequest arrived.
 */
export class FakeZkServer {
  readonly connections: FakeConnection[] = [];

  private constructor(private readonly server: Server) {}

  static async start(onConnect: (connection: FakeConnection) => void): Promise<FakeZkServer> {
    let fake: FakeZkServer | undefined = undefined;
    const server = createServer((socket) => {
      const connection = new FakeConnection(socket, onConnect);
      fake?.connections.push(connection);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeZkServer(server);
    return fake;
  }

  get connectString(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
