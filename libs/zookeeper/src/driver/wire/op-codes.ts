/** ZooKeeper's request types (`ZooDefs.OpCode`) the wire driver sends. */
export const Op = {
  CREATE: 1,
  DELETE: 2,
  EXISTS: 3,
  GET_DATA: 4,
  SET_DATA: 5,
  GET_ACL: 6,
  SET_ACL: 7,
  SYNC: 9,
  PING: 11,
  GET_CHILDREN2: 12,
  CHECK: 13,
  MULTI: 14,
  CREATE2: 15,
  REMOVE_WATCHES: 18,
  CREATE_CONTAINER: 19,
  CREATE_TTL: 21,
  AUTH: 100,
  SET_WATCHES: 101,
  SET_WATCHES2: 105,
  ADD_WATCH: 106,
  CLOSE_SESSION: -11,
  ERROR: -1,
} as const;

/** Reserved xids (`ClientCnxn`): replies carrying them are not answers to numbered requests. */
export const Xid = {
  NOTIFICATION: -1,
  PING: -2,
  AUTH: -4,
  SET_WATCHES: -8,
} as const;

/** `Watcher.Event.EventType` codes of a WatcherEvent. */
export const EventCode = {
  NONE: -1,
  CREATED: 1,
  DELETED: 2,
  DATA_CHANGED: 3,
  CHILDREN_CHANGED: 4,
} as const;

/** `Watcher.WatcherType` of RemoveWatches: ANY removes data, child and persistent watches. */
export const WatcherTypeCode = { CHILDREN: 1, DATA: 2, ANY: 3 } as const;

/** Create flags (CreateMode values) that need their own request type. */
export const CreateFlag = { CONTAINER: 4, TTL: 5, SEQUENTIAL_TTL: 6 } as const;

/** Result codes the driver produces itself. */
export const Rc = {
  OK: 0,
  RUNTIME_INCONSISTENCY: -2,
  CONNECTION_LOSS: -4,
  MARSHALLING_ERROR: -5,
  INVALID_STATE: -9,
  NO_NODE: -101,
  SESSION_EXPIRED: -112,
  AUTH_FAILED: -115,
  CLOSING: -116,
} as const;

/** The listener's close code when authentication failed (the C client's ZOO_AUTH_FAILED_STATE). */
export const AUTH_FAILED_CLOSE_CODE = -113;

const MESSAGES: Readonly<Record<number, string>> = {
  0: 'ok',
  [-1]: 'system error',
  [-2]: 'run time inconsistency',
  [-3]: 'data inconsistency',
  [-4]: 'connection loss',
  [-5]: 'marshalling error',
  [-6]: 'unimplemented',
  [-7]: 'operation timeout',
  [-8]: 'bad arguments',
  [-9]: 'invalid zhandle state',
  [-100]: 'api error',
  [-101]: 'no node',
  [-102]: 'not authenticated',
  [-103]: 'bad version',
  [-108]: 'no children for ephemerals',
  [-110]: 'node exists',
  [-111]: 'not empty',
  [-112]: 'session expired',
  [-113]: 'invalid callback',
  [-114]: 'invalid acl',
  [-115]: 'authentication failed',
  [-116]: 'zookeeper is closing',
  [-117]: '(not error) no server responses to process',
  [-118]: 'session moved to another server, so operation is ignored',
  [-119]: 'state-changing request is passed to read-only server',
  [-120]: 'attempt to create ephemeral node on a local session',
  [-121]: "the watcher couldn't be found",
  [-123]:
    'attempts to perform a reconfiguration operation when reconfiguration feature is disabled',
  [-124]: 'session closed because client failed to authenticate',
  [-127]: 'request rejected due to server throttling',
};

/** The text of a result code, as the C client's zerror() words it. */
export function resultText(rc: number): string {
  return MESSAGES[rc] ?? `unknown error ${rc}`;
}
