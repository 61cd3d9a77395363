import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { BatchEntry } from '../shared/entry-names.js';
import { MAX_BATCH_MESSAGES } from '../shared/message-batch.js';
import { CorruptOffsetError } from '../shared/messaging-errors.js';

/**
 * An offset is one number: `sequence * 100000 + index` of the message in its batch znode. It
 * grows along the log, so "committed past" is a plain comparison, and it names the znode to
 * read. Offsets are not dense: sequence numbers skip (deletes also advance them).
 */
export function messageOffset(sequence: number, index: number): number {
  return sequence * MAX_BATCH_MESSAGES + index;
}

/** The offset of an entry's last message. */
export function lastOffsetOf(entry: BatchEntry): number {
  return messageOffset(entry.sequence, entry.count - 1);
}

/** Nothing committed yet: every offset of the log is after it. */
export const BEFORE_FIRST_OFFSET = -1;

interface StoredOffset {
  offset: number;
  version: number;
}

/**
 * A subscriber's committed offset in `<topic>/offsets/<id>`. Writes are compare-and-set and only
 * move forward: a stale writer (a second process with the same id, or a retried write) can never
 * move a subscriber back, which would re-deliver, nor past what it has processed.
 */
export class OffsetStore {
  private known?: StoredOffset;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
  ) {}

  /** The stored offset, or undefined when this subscriber never registered. */
  async read(): Promise<number | undefined> {
    try {
      const { data, stat } = await this.connection.get(this.path);
      this.known = { offset: parseOffset(data, this.path), version: stat.version };
      return this.known.offset;
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /**
   * Stores `offset` unless an offset is already stored; returns the offset now stored, and
   * whether this call created it.
   */
  async initialize(offset: number): Promise<{ offset: number; created: boolean }> {
    try {
      await this.connection.create(this.path, encodeOffset(offset));
      this.known = { offset, version: 0 };
      return { offset, created: true };
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      const stored = await this.read();
      return stored === undefined ? this.initialize(offset) : { offset: stored, created: false };
    }
  }

  /**
   * Rewrites the stored offset as it is, so its znode's mtime moves (retention's sign that the
   * subscriber is alive, see `subscriberExpiryMs`). Resolves to the offset stored, or undefined
   * when there is none (never stored, removed or expired).
   */
  async touch(): Promise<number | undefined> {
    for (;;) {
      if (!this.known && (await this.read()) === undefined) return undefined;
      const known = this.known!;
      try {
        const stat = await this.connection.set(this.path, encodeOffset(known.offset), {
          version: known.version,
        });
        this.known = { offset: known.offset, version: stat.version };
        return known.offset;
      } catch (error) {
        if (error instanceof NoNodeError) return (this.known = undefined);
        if (!(error instanceof BadVersionError)) throw error;
        this.known = undefined;
      }
    }
  }

  /** Moves the stored offset forward to `offset` (never back). */
  async commit(offset: number): Promise<void> {
    for (;;) {
      const known = this.known ?? (await this.readOrCreate(offset));
      if (known.offset >= offset) return;
      try {
        const stat = await this.connection.set(this.path, encodeOffset(offset), {
          version: known.version,
        });
        this.known = { offset, version: stat.version };
        return;
      } catch (error) {
        if (!(error instanceof BadVersionError || error instanceof NoNodeError)) throw error;
        this.known = undefined;
      }
    }
  }

  private async readOrCreate(offset: number): Promise<StoredOffset> {
    if ((await this.read()) === undefined) await this.initialize(offset);
    return this.known ?? { offset, version: 0 };
  }
}

export function encodeOffset(offset: number): Buffer {
  return Buffer.from(JSON.stringify({ offset, at: Date.now() }), 'utf8');
}

/** The offset stored in `data`; a CorruptOffsetError (never NaN) when it holds none. */
export function parseOffset(data: Buffer, path: string): number {
  const text = data.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptOffsetError(path, `not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < BEFORE_FIRST_OFFSET) {
    throw new CorruptOffsetError(path, `no offset in ${JSON.stringify(text.slice(0, 80))}`);
  }
  return offset;
}
