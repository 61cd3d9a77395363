import { LibraryErrorCode } from './library-errors.js';
import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';

/** The chosen driver cannot be loaded (the optional `zookeeper` package is not installed). */
export class DriverUnavailableError extends ZookeeperError {
  constructor(
    readonly driver: string,
    reason: string,
    cause?: unknown,
  ) {
    super(
      LibraryErrorCode.DRIVER_UNAVAILABLE,
      `the '${driver}' ZooKeeper driver is not available: ${reason}`,
      cause === undefined ? { operation: 'connect' } : { operation: 'connect', cause },
    );
  }
}

/**
 * The server sent bytes that are not a ZooKeeper reply (truncated, malformed, or not ZooKeeper at
 * all, e.g. an HTTP port or a TLS port spoken to in plain text): the link is dropped.
 */
export class ProtocolError extends ZookeeperError {
  constructor(message: string, context: ZookeeperErrorContext = {}) {
    super(LibraryErrorCode.PROTOCOL, `ZooKeeper protocol error: ${message}`, context);
  }
}

/** A request or reply is larger than the frame limit (ZooKeeper's jute.maxbuffer). */
export class FrameTooLargeError extends ZookeeperError {
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
    direction: 'request' | 'reply',
    context: ZookeeperErrorContext = {},
  ) {
    super(
      LibraryErrorCode.FRAME_TOO_LARGE,
      `the ${direction} is ${bytes} bytes, above the frame limit of ${limitBytes} bytes ` +
        `(ZooKeeper's jute.maxbuffer): store less per node, or raise maxFrameBytes together ` +
        `with the servers' jute.maxbuffer`,
      context,
    );
  }
}

/** The TLS handshake failed (certificate refused, wrong name, or a plain-text server). */
export class TlsError extends ZookeeperError {
  constructor(message: string, cause?: unknown) {
    super(
      LibraryErrorCode.TLS,
      `TLS handshake with ZooKeeper failed: ${message}`,
      cause === undefined ? { operation: 'connect' } : { operation: 'connect', cause },
    );
  }
}

/** The connection's driver lacks a capability the call needs (e.g. `multi` on 'native'). */
export class CapabilityMissingError extends ZookeeperError {
  constructor(
    readonly capability: string,
    readonly driver: string,
    operation: string,
  ) {
    super(
      LibraryErrorCode.CAPABILITY_MISSING,
      `${operation} needs a driver with '${capability}'; this connection uses '${driver}': ` +
        `use the 'wire' driver (the default), or do without ${operation}`,
      { operation },
    );
  }
}

/**
 * A transaction applied nothing because one operation failed: `failure` is that operation's
 * typed error (e.g. BadVersionError), `index` its position, `codes` every operation's result code.
 */
export class TransactionFailedError extends ZookeeperError {
  constructor(
    readonly failure: ZookeeperError,
    readonly index: number,
    readonly codes: readonly number[],
  ) {
    super(
      failure.code,
      `transaction applied nothing: operation ${index} failed with ${failure.name}`,
      { operation: 'multi', path: failure.path, cause: failure },
    );
  }
}
