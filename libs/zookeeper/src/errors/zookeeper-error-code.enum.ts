/** Result codes of the ZooKeeper C client (`ZOO_ERRORS` in zookeeper.h), as the driver reports them. */
export enum ZookeeperErrorCode {
  SYSTEM_ERROR = -1,
  RUNTIME_INCONSISTENCY = -2,
  DATA_INCONSISTENCY = -3,
  CONNECTION_LOSS = -4,
  MARSHALLING_ERROR = -5,
  UNIMPLEMENTED = -6,
  OPERATION_TIMEOUT = -7,
  BAD_ARGUMENTS = -8,
  INVALID_STATE = -9,
  /**
   * The server's UNKNOWNSESSION ("internal server use only"): a request that reached the server
   * after it had dropped the session. Reported as SessionExpiredError.
   */
  UNKNOWN_SESSION = -12,
  API_ERROR = -100,
  NO_NODE = -101,
  NO_AUTH = -102,
  BAD_VERSION = -103,
  NO_CHILDREN_FOR_EPHEMERALS = -108,
  NODE_EXISTS = -110,
  NOT_EMPTY = -111,
  SESSION_EXPIRED = -112,
  INVALID_CALLBACK = -113,
  INVALID_ACL = -114,
  AUTH_FAILED = -115,
  CLOSING = -116,
  NOTHING = -117,
  SESSION_MOVED = -118,
  NOT_READ_ONLY = -119,
  EPHEMERAL_ON_LOCAL_SESSION = -120,
  NO_WATCHER = -121,
  RECONFIG_DISABLED = -123,
  SESSION_CLOSED_REQUIRE_SASL_AUTH = -124,
  THROTTLED = -127,
}
