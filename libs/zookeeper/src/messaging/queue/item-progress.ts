import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { LibraryErrorCode } from '../../errors/library-errors.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';
import { whenNoNode } from '../../internal/no-node.js';

/** An item's progress record (`<queue>/progress/<item>`) is not one this library wrote. */
export class CorruptProgressError extends ZookeeperError {
  constructor(path: string, reason: string) {
    super(LibraryErrorCode.CORRUPT_VALUE, `not a progress record: ${reason}`, {
      operation: 'read',
      path,
    });
  }
}

/** How far a batch item got: messages before `next` are done; `attempts` failed runs of `next`. */
export interface Progress {
  next: number;
  attempts: number;
  /**
   * Set when the stored record is not a progress record (written by someone else): why. `next`
   * and `attempts` are 0 then and mean nothing; the item is quarantined, not run (see ItemWorker).
   */
  corrupt?: string;
}

export const FRESH: Progress = { next: 0, attempts: 0 };

/**
 * The progress znode of one item (`<queue>/progress/<item>`), written by compare-and-set. The
 * version doubles as a fence: a consumer whose lock vanished (its session expired) and whose item
 * was taken over fails its next write and stops, instead of racing the new owner. With
 * transactions the node is created (or its version bumped) in the same transaction as the lock,
 * so its version is the holder's ownership token; without them it exists only once a write needed
 * it (a failure, a stop, a long item).
 */
export class ItemProgress {
  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    /** Where the holder starts: the stored progress when the item was taken. */
    readonly start: Progress,
    /** The node's version as this holder last wrote or read it; undefined while it has none. */
    public version?: number,
  ) {}

  /** The stored progress of `path`, or a fresh start when the item has none. */
  static async read(connection: ZookeeperConnection, path: string): Promise<ItemProgress> {
    const node = await connection.get(path).catch(whenNoNode(undefined));
    return node
      ? new ItemProgress(connection, path, decodeProgress(node.data), node.stat.version)
      : new ItemProgress(connection, path, FRESH);
  }

  /**
   * Throws BadVersionError / NoNodeError (or NodeExistsError for a first write) when another
   * consumer owns the item now.
   */
  async save(progress: Progress): Promise<void> {
    if (this.version === undefined) {
      await this.connection.create(this.path, encodeProgress(progress));
      this.version = 0;
      return;
    }
    const stat = await this.connection.set(this.path, encodeProgress(progress), {
      version: this.version,
    });
    this.version = stat.version;
  }
}

export function encodeProgress(progress: Progress): Buffer {
  return Buffer.from(JSON.stringify(progress), 'utf8');
}

/**
 * The stored progress; never throws. A record that is not one this library wrote (not JSON, `next`
 * or `attempts` not a non-negative integer) comes back with `corrupt` saying why, so a take still
 * succeeds and the holder quarantines the item rather than guessing where to resume.
 */
export function decodeProgress(data: Buffer): Progress {
  if (data.length === 0) return FRESH;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return corrupt('not JSON', data);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return corrupt('not an object', data);
  }
  const { next = 0, attempts = 0 } = parsed as Record<string, unknown>;
  if (!isCount(next)) return corrupt('next is not a non-negative integer', data);
  if (!isCount(attempts)) return corrupt('attempts is not a non-negative integer', data);
  return { next, attempts };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function corrupt(reason: string, data: Buffer): Progress {
  const text = data.toString('utf8');
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return { next: 0, attempts: 0, corrupt: `${reason}: ${JSON.stringify(shown)}` };
}
