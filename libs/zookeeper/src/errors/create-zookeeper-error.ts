import { ZookeeperErrorCode as Code } from './zookeeper-error-code.enum.js';
import { ZookeeperError, ZookeeperErrorContext } from './zookeeper.error.js';
import {
  AuthFailedError,
  BadArgumentsError,
  BadVersionError,
  ConnectionLossError,
  InvalidAclError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  OperationTimeoutError,
  SessionExpiredError,
  SessionMovedError,
  ThrottledError,
  UnexpectedZookeeperError,
  UnimplementedError,
} from './zookeeper-errors.js';

type ErrorClass = new (context?: ZookeeperErrorContext) => ZookeeperError;

const ERROR_CLASSES: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [Code.NO_NODE, NoNodeError],
  [Code.NODE_EXISTS, NodeExistsError],
  [Code.BAD_VERSION, BadVersionError],
  [Code.NOT_EMPTY, NotEmptyError],
  [Code.NO_AUTH, NoAuthError],
  [Code.INVALID_ACL, InvalidAclError],
  [Code.AUTH_FAILED, AuthFailedError],
  [Code.CONNECTION_LOSS, ConnectionLossError],
  [Code.SESSION_EXPIRED, SessionExpiredError],
  [Code.SESSION_MOVED, SessionMovedError],
  [Code.OPERATION_TIMEOUT, OperationTimeoutError],
  [Code.NO_CHILDREN_FOR_EPHEMERALS, NoChildrenForEphemeralsError],
  [Code.UNIMPLEMENTED, UnimplementedError],
  [Code.BAD_ARGUMENTS, BadArgumentsError],
  [Code.THROTTLED, ThrottledError],
]);

/** Turns a driver result code into the typed error users catch. */
export function createZookeeperError(
  code: number,
  driverMessage: string,
  context?: ZookeeperErrorContext,
): ZookeeperError {
  const ErrorClass = ERROR_CLASSES.get(code);
  return ErrorClass
    ? new ErrorClass(context)
    : new UnexpectedZookeeperError(code, driverMessage, context);
}
