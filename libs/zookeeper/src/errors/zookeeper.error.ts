import { ZookeeperErrorCode } from './zookeeper-error-code.enum.js';

/** Where an error happened: the operation and the path as the caller wrote it. */
export interface ZookeeperErrorContext {
  operation?: string;
  path?: string;
  cause?: unknown;
}

/**
 * Base class of every error this library throws. `code` is the ZooKeeper result code when the
 * server or the C client produced the error, or a negative code of our own below -1000 for errors
 * the library detects itself (bad paths, timeouts, a closed connection).
 */
export class ZookeeperError extends Error {
  readonly code: number;
  readonly operation?: string;
  readonly path?: string;

  constructor(code: number, message: string, context: ZookeeperErrorContext = {}) {
    super(
      describe(message, context),
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.operation = context.operation;
    this.path = context.path;
  }

  /** True for errors after which the same request may succeed once the connection is back. */
  get isRetryable(): boolean {
    return (
      this.code === ZookeeperErrorCode.CONNECTION_LOSS ||
      this.code === ZookeeperErrorCode.OPERATION_TIMEOUT ||
      this.code === ZookeeperErrorCode.THROTTLED
    );
  }
}

function describe(message: string, { operation, path }: ZookeeperErrorContext): string {
  if (!operation && !path) return message;
  const where = [operation, path && `'${path}'`].filter(Boolean).join(' ');
  return `${where}: ${message}`;
}
