/**
 * What the application can assume about its session (the same states as Curator's
 * ConnectionState, plus the initial CONNECTING).
 */
export enum ConnectionState {
  /** Not connected yet: the first session is being established. */
  CONNECTING = 'CONNECTING',
  /** A new session is established (the first one, or a new one after EXPIRED). */
  CONNECTED = 'CONNECTED',
  /** The connection was lost; the session may still be alive. Do not act as a leader or lock holder. */
  SUSPENDED = 'SUSPENDED',
  /** The connection is back and the same session survived: ephemerals and watches are intact. */
  RECONNECTED = 'RECONNECTED',
  /** The session is gone: its ephemeral nodes and watches are lost. A new session is opened next. */
  EXPIRED = 'EXPIRED',
  /** The server rejected the credentials; the connection will not reconnect. */
  AUTH_FAILED = 'AUTH_FAILED',
  /** The connection was closed by the application. */
  CLOSED = 'CLOSED',
}

/** True in the states in which the session is usable right now. */
export function isConnectedState(state: ConnectionState): boolean {
  return state === ConnectionState.CONNECTED || state === ConnectionState.RECONNECTED;
}
