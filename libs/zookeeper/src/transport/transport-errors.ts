import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

/** A message that is not a transport packet (not JSON, wrong shape); it is dropped and logged. */
export class InvalidPacketError extends ZookeeperError {
  constructor(
    readonly reason: string,
    path?: string,
  ) {
    super(LibraryErrorCode.INVALID_PACKET, `not a transport packet: ${reason}`, { path });
  }
}

/** No reply came for a request within its deadline; a server that takes it later drops it. */
export class RequestTimeoutError extends ZookeeperError {
  constructor(
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(
      LibraryErrorCode.REQUEST_TIMEOUT,
      `no reply to a request for pattern '${pattern}' within ${timeoutMs} ms: is a server with ` +
        `a @MessagePattern('${pattern}') handler running? (raise requestTimeoutMs for slow handlers)`,
    );
  }
}

/** The client's session expired while the request waited: its reply can no longer arrive. */
export class RequestSessionLostError extends ZookeeperError {
  constructor(readonly pattern: string) {
    super(
      LibraryErrorCode.REQUEST_SESSION_LOST,
      `the ZooKeeper session expired while a request for pattern '${pattern}' waited for its ` +
        `reply; the client has a new session, send the request again if it is safe to repeat`,
    );
  }
}

/** The client or server was closed. */
export class TransportClosedError extends ZookeeperError {
  constructor(what: string) {
    super(LibraryErrorCode.TRANSPORT_CLOSED, `${what} is closed`);
  }
}

/** A call that the transport's state does not allow yet (or at all); the message says what to do. */
export class TransportStateError extends ZookeeperError {
  constructor(message: string) {
    super(LibraryErrorCode.TRANSPORT_STATE, message);
  }
}
