import { distinctUntilChanged, filter, map, Observable } from 'rxjs';
import { validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { BadVersionError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { watchNode } from '../../watch/index.js';
import { ignoreNodeExists } from '../../internal/no-node.js';
import { sleep } from '../../internal/sleep.js';
import { InvalidOptionsError, LibraryErrorCode } from '../../errors/library-errors.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';

/** A counter value with the znode version it was read at, for compare-and-set. */
export interface VersionedValue {
  readonly value: number;
  readonly version: number;
}

/** The counter znode does not hold a 4-byte integer. */
export class InvalidCounterValueError extends ZookeeperError {
  constructor(path: string, length: number) {
    super(
      LibraryErrorCode.INVALID_COUNTER_VALUE,
      `holds ${length} bytes, not a 4-byte big-endian integer (Curator SharedCount)`,
      { path },
    );
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Updates by `trySet` and `increment` are compare-and-set on the znode version, so concurrent
 * updaters in any number of processes, Curator's SharedCount included, never lose an update.
 * Across partitions and reconnects `value$` converges to the current value but may skip
 * intermediate ones.
 *
 * Layout, Curator's SharedCount's: a 32-bit integer in one persistent znode whose data is exactly
 * 4 bytes, a big-endian two's-complement int32 (Java's `ByteBuffer.putInt`), so Curator's
 * SharedCount and this class can share a counter. The node is created with `initialValue`
 * (missing parents too) by the first `get`, `getVersioned`, `set`, `increment` or `trySet` by
 * value that finds it missing (`value$` waits for it; a `trySet` by version returns false).
 *
 * Guaranteed:
 * - `trySet` and `increment` are compare-and-set on the znode version, so concurrent updaters in
 *   any number of processes never lose an update (`increment` retries until its CAS wins and
 *   returns the value it wrote); `set` overwrites whatever is there, as Curator's setCount does.
 * - Values outside int32 are refused, never wrapped.
 * - `value$` converges to the current value (watch layer guarantees).
 *
 * Not guaranteed (partitions, pauses):
 * - That `value$` shows every value; intermediate values may be coalesced.
 */
export class SharedCounter {
  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    readonly initialValue = 0,
  ) {
    validatePath(path, 'SharedCounter');
    encodeCount(initialValue);
  }

  /** The current value, creating the counter if missing. */
  async get(): Promise<number> {
    return (await this.getVersioned()).value;
  }

  async getVersioned(): Promise<VersionedValue> {
    for (;;) {
      try {
        const { data, stat } = await this.connection.get(this.path);
        return { value: decodeCount(data, this.path), version: stat.version };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
      await this.connection
        .create(this.path, encodeCount(this.initialValue), { createParents: true })
        .catch(ignoreNodeExists);
    }
  }

  /**
   * Sets `next` if the counter is still at `expected`: a value read by `getVersioned()` (compared
   * by version, like Curator's trySetCount) or a plain number (compared by value).
   */
  async trySet(expected: VersionedValue | number, next: number): Promise<boolean> {
    const bytes = encodeCount(next);
    let version: number;
    if (typeof expected === 'number') {
      const current = await this.getVersioned();
      if (current.value !== expected) return false;
      version = current.version;
    } else {
      version = expected.version;
    }
    try {
      await this.connection.set(this.path, bytes, { version });
      return true;
    } catch (error) {
      if (error instanceof BadVersionError || error instanceof NoNodeError) return false;
      throw error;
    }
  }

  /** Sets the value whatever it was (Curator's setCount). */
  async set(value: number): Promise<void> {
    const bytes = encodeCount(value);
    await this.getVersioned();
    await this.connection.set(this.path, bytes);
  }

  /** Adds `delta` (may be negative) atomically; resolves with the new value. */
  async increment(delta = 1): Promise<number> {
    if (!Number.isInteger(delta))
      throw new InvalidOptionsError(
        `SharedCounter.increment: 'delta' must be an integer, got ${delta}: pass a whole number ` +
          '(a negative one counts down)',
      );
    for (let attempt = 0; ; attempt++) {
      const current = await this.getVersioned();
      const next = current.value + delta;
      if (await this.trySet(current, next)) return next;
      // Many contenders: spread the retries a little so each round has fewer losers.
      if (attempt >= 2) await sleep(Math.random() * Math.min(20, attempt * 2));
    }
  }

  /** The value on subscribe (once the counter exists), then each new value observed. */
  get value$(): Observable<number> {
    return watchNode(this.connection, this.path).pipe(
      filter((node) => node !== undefined),
      map((node) => decodeCount(node.data, this.path)),
      distinctUntilChanged(),
    );
  }
}

/** 4 bytes, big-endian int32, as Curator's SharedCount writes it. */
export function encodeCount(value: number): Buffer {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX)
    throw new InvalidOptionsError(
      `a shared count is a 32-bit integer from ${INT32_MIN} to ${INT32_MAX} (Curator's ` +
        `SharedCount format), got ${value}: keep set, trySet and increment within that range`,
    );
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

export function decodeCount(bytes: Buffer, path = '(counter)'): number {
  if (bytes.length !== 4) throw new InvalidCounterValueError(path, bytes.length);
  return bytes.readInt32BE(0);
}
