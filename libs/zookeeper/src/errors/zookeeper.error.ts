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
    return CONNECTION_PROBLEM_CODES.has(this.code);
  }
}

/**
 * Failures that say nothing about the node, only about the link or the session (the set Curator's
 * RetryLoop retries): the same request may succeed once the connection is back.
 */
export const CONNECTION_PROBLEM_CODES: ReadonlySet<number> = new Set<number>([
  ZookeeperErrorCode.CONNECTION_LOSS,
  ZookeeperErrorCode.OPERATION_TIMEOUT,
  ZookeeperErrorCode.SESSION_MOVED,
  ZookeeperErrorCode.SESSION_EXPIRED,
  ZookeeperErrorCode.THROTTLED,
]);

/** True for a ZookeeperError caused by the connection, not by the request. */
export function isConnectionProblem(error: unknown): error is ZookeeperError {
  return error instanceof ZookeeperError && error.isRetryable;
}

function describe(message: string, { operation, path }: ZookeeperErrorContext): string {
  if (!operation && !path) return message;
  const where = [operation, path && `'${path}'`].filter(Boolean).join(' ');
  return `${where}: ${message}`;
}
