/** The transport's connection status, as Nest's transporters report theirs on `status`. */
export const enum ZookeeperStatus {
  CONNECTED = 'connected',
  DISCONNECTED = 'disconnected',
  RECONNECTING = 'reconnecting',
  /** The ZooKeeper session expired: a new one is being opened (pending requests failed). */
  SESSION_LOST = 'session-lost',
}

/** Events of ServerZookeeper and ClientZookeeper, for `on(event, callback)`. */
export type ZookeeperEvents = {
  connected: () => void;
  disconnected: () => void;
  reconnecting: () => void;
  'session-lost': () => void;
  /** A bad packet, a failed reply or a background failure; the transport goes on. */
  error: (error: Error) => void;
};
