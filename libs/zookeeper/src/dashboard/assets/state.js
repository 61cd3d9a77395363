/* What the page keeps between renders. */

export const state = {
  /** The latest sample shown. */
  snapshot: undefined,
  /** The charts' points, oldest first: the server's history, then each event's `point`. */
  history: [],
  /** Per card element, its charts by kind. */
  charts: new Map(),
  /** The queues whose dead letters are open. */
  openDead: new Set(),
};
