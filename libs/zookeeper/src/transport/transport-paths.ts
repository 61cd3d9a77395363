import { joinPath } from '../connection/paths.js';
import { InvalidPacketError } from './transport-errors.js';

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

/** A high surrogate without its low half, or a low one without its high half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A pattern as one znode name: URI-encoded, and never `.` or `..`. An empty pattern (it would name
 * the folder itself) or one with a lone surrogate (no UTF-8 form: encodeURIComponent throws a
 * URIError) is an InvalidPacketError.
 */
export function patternNode(pattern: string): string {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new InvalidPacketError(`the pattern ${JSON.stringify(pattern)} is empty or not a string`);
  }
  if (LONE_SURROGATE.test(pattern)) {
    throw new InvalidPacketError(
      `the pattern ${JSON.stringify(pattern)} has a lone surrogate (no UTF-8 form)`,
    );
  }
  return encodeURIComponent(pattern).replace(/\./g, '%2E');
}
