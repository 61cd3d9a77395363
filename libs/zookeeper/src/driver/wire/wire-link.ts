import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ProtocolError } from '../../errors/driver-errors.js';
import { DriverTlsOptions } from '../driver-session.interface.js';
import { FrameReader, FrameSink } from './frame-reader.js';
import { HostAddress } from './host-list.js';
import { JuteReader } from './jute/jute-reader.js';
import { ConnectResponse, decodeConnectResponse } from './records/responses.js';
import { isTlsLayerError, tlsFailure } from './tls-failure.js';

export interface LinkOptions {
  address: HostAddress;
  tls?: DriverTlsOptions;
  /** The framed ConnectRequest, written as soon as the socket (and TLS) is up. */
  connectRequest: Buffer;
  /** Deadline of the attempt: TCP connect, TLS handshake and ConnectResponse. */
  attemptTimeoutMs: number;
  /** Frames read above this size are skipped and reported as oversized. */
  maxReplyBytes: number;
}

export interface LinkHandlers {
  /** The server answered the ConnectRequest. */
  established(response: ConnectResponse): void;
  /** A frame after the ConnectResponse. */
  frame(buf: Buffer, start: number, end: number): void;
  oversized(bytes: number, xid: number): void;
  /** The link ended (once, unless `destroy()` ended it): `established` tells which phase. */
  failed(error: Error, established: boolean): void;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * One TCP (or TLS) connection to one server: the session handshake, then frames. Writes made in
 * one tick go out as one socket write. Reports its end once through `failed`, never after
 * `destroy()`; every timer it starts is cleared when it ends.
 */
export class WireLink implements FrameSink {
  lastReceived = Date.now();
  lastSent = Date.now();
  private readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly juteReader = new JuteReader(Buffer.alloc(0));
  private phase: 'connecting' | 'handshaking' | 'open' | 'ended' = 'connecting';
  private attemptTimer?: NodeJS.Timeout;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private socketError?: Error;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly options: LinkOptions,
    private readonly handlers: LinkHandlers,
  ) {
    this.reader = new FrameReader(options.maxReplyBytes, this);
    this.reader.strictLimit = 64;
    const { host, port } = options.address;
    const tls = options.tls;
    if (tls) {
      this.socket = tlsConnect({
        host,
        port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.servername ?? (isIP(host) ? undefined : host),
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      });
      this.socket.once('secureConnect', () => this.onConnected());
    } else {
      this.socket = netConnect({ host, port });
      this.socket.once('connect', () => this.onConnected());
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error: Error) => (this.socketError ??= error));
    this.socket.on('close', () => this.onClose());
    this.attemptTimer = setTimeout(
      () =>
        this.fail(
          new Error(
            `no session from ${host}:${port} within ${options.attemptTimeoutMs} ms (connect timeout)`,
          ),
        ),
      options.attemptTimeoutMs,
    );
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** Queues a frame; everything queued in this tick is written together. */
  send(frame: Buffer): void {
    if (this.phase === 'ended') return;
    this.out.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushBound);
    }
  }

  /** Ends the link without reporting it. */
  destroy(): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.cleanup();
  }

  /** Ends the link and reports `error` (a dead server, a protocol error, a read timeout). */
  fail(error: Error): void {
    if (this.phase === 'ended') return;
    const established = this.phase === 'open';
    this.phase = 'ended';
    this.cleanup();
    this.handlers.failed(error, established);
  }

  frame(buf: Buffer, start: number, end: number): void {
    if (this.phase === 'open') {
      this.handlers.frame(buf, start, end);
      return;
    }
    if (this.phase !== 'handshaking') throw new ProtocolError('a frame before the ConnectRequest');
    const response = decodeConnectResponse(this.juteReader.reset(buf, start, end));
    this.phase = 'open';
    this.reader.strictLimit = undefined;
    clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
    this.handlers.established(response);
  }

  oversized(bytes: number, xid: number): void {
    if (this.phase !== 'open') throw new ProtocolError(`a ${bytes}-byte frame in the handshake`);
    this.handlers.oversized(bytes, xid);
  }

  private onConnected(): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'handshaking';
    this.socket.write(this.options.connectRequest);
    this.lastSent = Date.now();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'ended') return;
    this.lastReceived = Date.now();
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(
        error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error }),
      );
    }
  }

  private onClose(): void {
    if (this.phase === 'ended') return;
    this.fail(this.closeReason());
  }

  private closeReason(): Error {
    const { host, port } = this.options.address;
    const error = this.socketError;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (this.options.tls && this.phase !== 'open') {
      // Before secureConnect every failure but an unreachable host is the handshake's; after it
      // (TLS 1.3: the server checks the client certificate then), only TLS-layer errors are.
      if (this.phase === 'connecting' ? !CONNECT_ERRORS.has(code ?? '') : isTlsLayerError(error)) {
        return tlsFailure(`${host}:${port}`, error);
      }
    }
    if (error) return error;
    if (this.reader.bufferedBytes > 0) {
      return new ProtocolError(`${host}:${port} closed the connection within a frame (truncated)`);
    }
    if (this.phase === 'open') return new Error(`${host}:${port} closed the connection`);
    if (this.phase === 'handshaking' && !this.options.tls) {
      // Not a byte in answer to the ConnectRequest: what a TLS port (or a server not serving yet)
      // does with a plain-text client.
      return new ProtocolError(
        `${host}:${port} closed the connection without answering the ConnectRequest: ` +
          'not a plain-text ZooKeeper client port (a TLS port needs the tls option), ' +
          'or the server is not serving yet',
      );
    }
    return new Error(`${host}:${port} closed the connection before a session was established`);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.phase === 'ended' || this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    if (out.length === 1) {
      this.socket.write(out[0]);
    } else {
      // One writev of the frames as they are: no copy into a batch buffer.
      this.socket.cork();
      for (const frame of out) this.socket.write(frame);
      this.socket.uncork();
    }
    this.lastSent = Date.now();
  }

  private cleanup(): void {
    clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
    this.reader.stop();
    this.out = [];
    this.socket.destroy();
  }
}
