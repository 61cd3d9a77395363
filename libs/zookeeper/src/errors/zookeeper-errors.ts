import { ZookeeperErrorCode as Code } from './zookeeper-error-code.enum.js';
import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';

/**
 * The base of one error class per ZooKeeper result code: the code and the message (which says
 * what to do) are fixed per class; the context says where it happened.
 */
function resultCodeError(
  code: Code,
  message: string,
): new (context?: ZookeeperErrorContext) => ZookeeperError {
  return class extends ZookeeperError {
    constructor(context?: ZookeeperErrorContext) {
      super(code, message, context);
    }
  };
}

/** The node does not exist (or a parent of the node to create does not exist). */
export class NoNodeError extends resultCodeError(
  Code.NO_NODE,
  'the node does not exist (create it, or its parents, first)',
) {}

/** A node with this path already exists. */
export class NodeExistsError extends resultCodeError(
  Code.NODE_EXISTS,
  'a node with this path already exists',
) {}

/** The expected version did not match: someone else changed the node since it was read. */
export class BadVersionError extends resultCodeError(
  Code.BAD_VERSION,
  'the node changed since it was read (version mismatch): read it again and retry',
) {}

/** The node has children and cannot be deleted on its own. */
export class NotEmptyError extends resultCodeError(
  Code.NOT_EMPTY,
  'the node has children: delete them first (or delete recursively)',
) {}

/** The node's ACL does not grant this session the permission the operation needs. */
export class NoAuthError extends resultCodeError(
  Code.NO_AUTH,
  "not authorized by the node's ACL: add the right credentials (auth option / addAuth)",
) {}

/** The ACL is invalid (empty, malformed, or refers to an identity the session does not have). */
export class InvalidAclError extends resultCodeError(
  Code.INVALID_ACL,
  'invalid ACL (empty, malformed, or needs an authenticated identity)',
) {}

/** Authentication with the server failed; the session is closed. */
export class AuthFailedError extends resultCodeError(
  Code.AUTH_FAILED,
  'authentication failed: check the credentials',
) {}

/**
 * The connection to the server was lost before the reply arrived. The operation may or may not
 * have been applied; idempotent operations are retried automatically before this is thrown.
 */
export class ConnectionLossError extends resultCodeError(
  Code.CONNECTION_LOSS,
  'connection to ZooKeeper lost before the reply arrived (the operation may or may not have been applied)',
) {}

/** The session expired: its ephemeral nodes and watches are gone. */
export class SessionExpiredError extends resultCodeError(
  Code.SESSION_EXPIRED,
  'the ZooKeeper session expired (ephemeral nodes and watches are gone); a new session is being opened',
) {}

/** The session moved to another server while the request was in flight. */
export class SessionMovedError extends resultCodeError(
  Code.SESSION_MOVED,
  'the session moved to another server during the request',
) {}

/** The server did not answer in time. */
export class OperationTimeoutError extends resultCodeError(
  Code.OPERATION_TIMEOUT,
  'the operation timed out',
) {}

/** Ephemeral nodes cannot have children. */
export class NoChildrenForEphemeralsError extends resultCodeError(
  Code.NO_CHILDREN_FOR_EPHEMERALS,
  'ephemeral nodes cannot have children',
) {}

/** The server does not support the request (e.g. TTL nodes without extended types enabled). */
export class UnimplementedError extends resultCodeError(
  Code.UNIMPLEMENTED,
  'the server does not support this operation (TTL nodes need zookeeper.extendedTypesEnabled=true on the server)',
) {}

/** The driver refused the arguments (for example a value larger than the client accepts). */
export class BadArgumentsError extends resultCodeError(
  Code.BAD_ARGUMENTS,
  'invalid arguments for this operation',
) {}

/** The request was throttled by the server; retry later. */
export class ThrottledError extends resultCodeError(
  Code.THROTTLED,
  'the server throttled the request; retry later',
) {}

/** Any other result code, kept with ZooKeeper's own description. */
export class UnexpectedZookeeperError extends ZookeeperError {
  constructor(code: number, driverMessage: string, context?: ZookeeperErrorContext) {
    super(code, `ZooKeeper error ${code} (${driverMessage})`, context);
  }
}
