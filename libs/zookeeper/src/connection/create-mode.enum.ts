/** How a znode is created; the values are the driver's flags (ZOO_PERSISTENT ... ). */
export enum CreateMode {
  PERSISTENT = 0,
  EPHEMERAL = 1,
  PERSISTENT_SEQUENTIAL = 2,
  EPHEMERAL_SEQUENTIAL = 3,
  /** Deleted by the server some time after its last child is gone (ZooKeeper 3.5.3+). */
  CONTAINER = 4,
  /** Deleted by the server when unchanged and childless for `ttlMs` (needs extended types). */
  PERSISTENT_WITH_TTL = 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
}

export function isSequential(mode: CreateMode): boolean {
  return (
    mode === CreateMode.PERSISTENT_SEQUENTIAL ||
    mode === CreateMode.EPHEMERAL_SEQUENTIAL ||
    mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
  );
}

export function isEphemeral(mode: CreateMode): boolean {
  return mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
}

export function isTtl(mode: CreateMode): boolean {
  return (
    mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
  );
}
