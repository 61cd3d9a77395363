import { joinPath } from '../connection/paths.js';

/** Where a transport keeps its queues, logs and reply channels under its root. */
export class TransportPaths {
  constructor(readonly root: string) {}

  /** The work queue of an event pattern (one instance of the service handles each event). */
  eventQueue(pattern: string): string {
    return joinPath(this.root, 'events', patternNode(pattern));
  }

  /** The broadcast log of an event pattern (every instance receives every event). */
  broadcastLog(pattern: string): string {
    return joinPath(this.root, 'broadcast', patternNode(pattern));
  }

  /** The work queue of requests for a message pattern. */
  requestQueue(pattern: string): string {
    return joinPath(this.root, 'requests', patternNode(pattern));
  }

  /** A pattern's declared delivery (`{ "broadcast": true }`), written by servers for clients. */
  patternInfo(pattern: string): string {
    return joinPath(this.root, 'patterns', patternNode(pattern));
  }

  /** Live clients: one ephemeral node per client session. */
  get clients(): string {
    return joinPath(this.root, 'clients');
  }

  client(clientId: string): string {
    return joinPath(this.clients, clientId);
  }

  /** Reply batches for one client. */
  get replies(): string {
    return joinPath(this.root, 'replies');
  }

  replyFolder(clientId: string): string {
    return joinPath(this.replies, clientId);
  }

  /** Requests withdrawn before a server took them: `<clientId>.<packetId>`, ephemeral. */
  get withdrawn(): string {
    return joinPath(this.root, 'withdrawn');
  }
}

/** A pattern as one znode name: URI-encoded, and never `.` or `..`. */
export function patternNode(pattern: string): string {
  return encodeURIComponent(pattern).replace(/\./g, '%2E');
}
