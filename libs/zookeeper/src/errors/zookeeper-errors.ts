import { ZookeeperErrorCode as Code } from './zookeeper-error-code.enum.js';
import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';

/** The node does not exist (or a parent of the node to create does not exist). */
export class NoNodeError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.NO_NODE, 'the node does not exist (create it, or its parents, first)', context);
  }
}

/** A node with this path already exists. */
export class NodeExistsError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.NODE_EXISTS, 'a node with this path already exists', context);
  }
}

/** The expected version did not match: someone else changed the node since it was read. */
export class BadVersionError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.BAD_VERSION,
      'the node changed since it was read (version mismatch): read it again and retry',
      context,
    );
  }
}

/** The node has children and cannot be deleted on its own. */
export class NotEmptyError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.NOT_EMPTY,
      'the node has children: delete them first (or delete recursively)',
      context,
    );
  }
}

/** The node's ACL does not grant this session the permission the operation needs. */
export class NoAuthError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.NO_AUTH,
      "not authorized by the node's ACL: add the right credentials (auth option / addAuth)",
      context,
    );
  }
}

/** The ACL is invalid (empty, malformed, or refers to an identity the session does not have). */
export class InvalidAclError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.INVALID_ACL,
      'invalid ACL (empty, malformed, or needs an authenticated identity)',
      context,
    );
  }
}

/** Authentication with the server failed; the session is closed. */
export class AuthFailedError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.AUTH_FAILED, 'authentication failed: check the credentials', context);
  }
}

/**
 * The connection to the server was lost before the reply arrived. The operation may or may not
 * have been applied; idempotent operations are retried automatically before this is thrown.
 */
export class ConnectionLossError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.CONNECTION_LOSS,
      'connection to ZooKeeper lost before the reply arrived (the operation may or may not have been applied)',
      context,
    );
  }
}

/** The session expired: its ephemeral nodes and watches are gone. */
export class SessionExpiredError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.SESSION_EXPIRED,
      'the ZooKeeper session expired (ephemeral nodes and watches are gone); a new session is being opened',
      context,
    );
  }
}

/** The session moved to another server while the request was in flight. */
export class SessionMovedError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.SESSION_MOVED, 'the session moved to another server during the request', context);
  }
}

/** The server did not answer in time. */
export class OperationTimeoutError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.OPERATION_TIMEOUT, 'the operation timed out', context);
  }
}

/** Ephemeral nodes cannot have children. */
export class NoChildrenForEphemeralsError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.NO_CHILDREN_FOR_EPHEMERALS, 'ephemeral nodes cannot have children', context);
  }
}

/** The server does not support the request (e.g. TTL nodes without extended types enabled). */
export class UnimplementedError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(
      Code.UNIMPLEMENTED,
      'the server does not support this operation (TTL nodes need zookeeper.extendedTypesEnabled=true on the server)',
      context,
    );
  }
}

/** The driver refused the arguments (for example a value larger than the client accepts). */
export class BadArgumentsError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.BAD_ARGUMENTS, 'invalid arguments for this operation', context);
  }
}

/** The request was throttled by the server; retry later. */
export class ThrottledError extends ZookeeperError {
  constructor(context?: ZookeeperErrorContext) {
    super(Code.THROTTLED, 'the server throttled the request; retry later', context);
  }
}

/** Any other result code, kept with ZooKeeper's own description. */
export class UnexpectedZookeeperError extends ZookeeperError {
  constructor(code: number, driverMessage: string, context?: ZookeeperErrorContext) {
    super(code, `ZooKeeper error ${code} (${driverMessage})`, context);
  }
}
