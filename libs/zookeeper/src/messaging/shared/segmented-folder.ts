import { combineLatest, distinctUntilChanged, map, Observable, of, switchMap } from 'rxjs';
import { watchChildren } from '../../watch/children-watch.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath, nodeName, parentPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Acl, Permission } from '../../connection/zookeeper-types.js';
import { TransactionFailedError } from '../../errors/driver-errors.js';
import { BadVersionError, NoAuthError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { whenNodeExists, whenNoNode } from '../../internal/no-node.js';
import { parseBatchEntry, parseSegmentEntries, SegmentEntry } from './entry-names.js';
import { SequenceExhaustedError } from './messaging-errors.js';

/**
 * Where a folder rolls over by default: 2^26 sequence numbers (creates and deletes both count)
 * before its parent's 32-bit change counter would wrap, room for every write still in flight to
 * the old segment when the roll happens.
 */
export const DEFAULT_ROLLOVER_AT = 2 ** 31 - 2 ** 26;

/** The highest `rolloverAt`: 2^20 sequence numbers of room for writes in flight at the roll. */
export const MAX_ROLLOVER_AT = 2 ** 31 - 2 ** 20;

/** Segments that may refuse one write before it fails with the refusal. */
const MAX_REFUSALS = 5;

/** How long after a failed roll the next write may try again. */
const ROLL_RETRY_MS = 10_000;

/** A folder rolled over (`segment`: the new one), or could not (tried again on the next write). */
export type SegmentEvent =
  | { type: 'segment-rolled'; folder: string; segment: number }
  | { type: 'rollover-failed'; folder: string; error: unknown };

/** Every entry of a segmented folder, in order, and the segments that exist. */
export interface SegmentListing {
  readonly indices: readonly number[];
  readonly entries: readonly SegmentEntry[];
}

export interface SegmentOptions {
  /**
   * A batch whose own sequence number reaches this rolls the folder over to a new segment.
   * Default DEFAULT_ROLLOVER_AT; tests use small values.
   */
  rolloverAt?: number;
}

/** The name of segment `index` of `base`: `log`, `log.1`, `log.2`, ... */
export function segmentName(base: string, index: number): string {
  return index === 0 ? base : `${base}.${index}`;
}

/** The segment number of the child `name` of the parent, or undefined when it is no segment. */
export function segmentIndexOf(base: string, name: string): number | undefined {
  if (name === base) return 0;
  if (!name.startsWith(`${base}.`)) return undefined;
  const suffix = name.slice(base.length + 1);
  return /^[1-9]\d{0,8}$/.test(suffix) ? Number(suffix) : undefined;
}

/**
 * A folder of sequential batch znodes that never runs out of sequence numbers: ZooKeeper numbers
 * a sequential child with its parent's signed 32-bit change counter, which creates and deletes
 * both advance, so after 2^31 of them names wrap to `-2147483648`. Before that the folder rolls
 * over to a new segment, a sibling parent (`log.1`, `log.2`, ...): the old one is sealed first,
 * its ACL losing CREATE (the server refuses every later create, so a writer that has not heard
 * of the roll learns of it from the refusal), then the next one is created.
 *
 * Order across segments: every entry of segment k comes before every entry of segment k+1. A
 * reader moves on from k only once k is sealed and listed after the seal, so no entry can appear
 * in k behind it. Writers move forward only, so each writer's batches keep their order.
 *
 * The seal relies on the server enforcing ACLs: a writer authenticated as ZooKeeper's super user,
 * or a server run with `skipACL`, is never refused, and a batch it appends to a segment readers
 * have left is never delivered.
 */
export class SegmentedFolder {
  readonly rolloverAt: number;
  private writeIndex?: number;
  private exhausted?: SequenceExhaustedError;
  /** A failed roll is not tried again by every write (each try costs round trips). */
  private retryRollAt = 0;

  constructor(
    private readonly connection: ZookeeperConnection,
    /** The node holding the segments (the topic or the queue). */
    readonly parent: string,
    /** Segment 0's name, the prefix of the others. */
    readonly base: string,
    options: SegmentOptions = {},
    /** How many segments an address can tell apart (offsets are safe integers). */
    private readonly maxSegments = Infinity,
    private readonly report: (event: SegmentEvent) => void = () => undefined,
  ) {
    this.rolloverAt = options.rolloverAt ?? DEFAULT_ROLLOVER_AT;
    // Never rolls over: segment 0 only, without listing the parent for others.
    if (this.rolloverAt === Infinity) this.writeIndex = 0;
  }

  /** The path of segment `index`. */
  folder(index: number): string {
    return joinPath(this.parent, segmentName(this.base, index));
  }

  /**
   * The segments that exist, ascending (none while the parent does not exist); `watch` is a
   * one-shot children watch on the parent.
   */
  async indices(watch?: () => void): Promise<number[]> {
    return (await this.listing(watch)).indices;
  }

  /** Segment 0, unless the folder has a segment already (retention may have removed segment 0). */
  async prepare(): Promise<void> {
    await this.connection.mkdirp(this.parent);
    if ((await this.indices()).length === 0) await this.connection.mkdirp(this.folder(0));
  }

  /** Every batch entry of every segment, in order (one listing per segment). */
  async entries(): Promise<SegmentEntry[]> {
    const indices = await this.indices();
    const lists = await Promise.all(indices.map((index) => this.segmentEntries(index)));
    return lists.flat();
  }

  /** The entries of one segment, in order; none when it is gone. */
  async segmentEntries(index: number, watch?: () => void): Promise<SegmentEntry[]> {
    const folder = this.folder(index);
    const names = await this.connection
      .getChildren(folder, watch ? { watch } : {})
      .catch(whenNoNode([] as string[]));
    return parseSegmentEntries(names, folder, index);
  }

  /** The sequence of the batch at `path` (a child of one of the segments) across segments. */
  sequenceOf(path: string): number {
    const segment = segmentIndexOf(this.base, nodeName(parentPath(path))) ?? 0;
    return parseBatchEntry(nodeName(path), segment)?.sequence ?? Number.NaN;
  }

  /**
   * Runs `write` in the segment writes go to now; when that segment refused it (sealed by a roll,
   * or removed), again in the newest one, a few times at most (more means no segment takes it).
   * Resolves with what `write` gave and the segment it went to.
   */
  async writeTo<T>(write: (folder: string) => Promise<T>): Promise<{ value: T; segment: number }> {
    for (let refusals = 0; ; refusals++) {
      const segment = await this.writeSegment();
      try {
        return { value: await write(this.folder(segment)), segment };
      } catch (error) {
        if (refusals >= MAX_REFUSALS || !(await this.refused(segment, error))) throw error;
      }
    }
  }

  /** The segment writes go to now (the newest known). */
  async writeSegment(): Promise<number> {
    if (this.exhausted) throw this.exhausted;
    if (this.writeIndex === undefined) {
      this.writeIndex = (await this.indices()).at(-1) ?? 0;
    }
    return this.writeIndex;
  }

  /**
   * After a write to segment `index` failed with `error`: true when the segment takes no more
   * children (sealed by a roll, or already removed): the write should go again, to the segment
   * `writeSegment` now gives (the next one is created if a roller died before creating it).
   * False for any other failure.
   */
  async refused(index: number, error: unknown): Promise<boolean> {
    if (!isRefusal(error) || !(await this.isSealed(index))) return false;
    // A roll stopped between its seal and its create is finished here, with the parent's ACL
    // (the sealed segment's own lost its CREATE bits).
    await this.nextOrNewest(index);
    return true;
  }

  /**
   * After a batch was created at `path` in segment `index`: rolls over when it is time. A roll
   * that fails is reported and tried again by a write at least ROLL_RETRY_MS later (the write
   * itself stands, and writes go on to this segment meanwhile).
   */
  async created(index: number, path: string): Promise<void> {
    // Parsed as segment 0: its own sequence number.
    const own = parseBatchEntry(nodeName(path))?.sequence ?? 0;
    if (own < this.rolloverAt || Date.now() < this.retryRollAt) return;
    try {
      await this.roll(index);
    } catch (error) {
      if (error instanceof SequenceExhaustedError) this.exhausted = error;
      this.retryRollAt = Date.now() + ROLL_RETRY_MS;
      this.report({ type: 'rollover-failed', folder: this.folder(index), error });
    }
  }

  /**
   * Rolls segment `index` over: seals it, then creates the next segment, unless a newer one
   * exists (writes then go on in the newest; a removed segment is never created again). Sealed
   * first, so a roll that fails (no ADMIN permission, say) leaves one segment taking writes,
   * never two; and a segment that has a successor is always sealed (readers never need to seal).
   * Idempotent: every writer that reaches the limit may run it, and a roll that stopped half-way
   * is finished by the next writer the sealed segment refuses.
   */
  async roll(index: number): Promise<void> {
    if (index + 1 >= this.maxSegments) {
      throw new SequenceExhaustedError(this.parent, this.maxSegments);
    }
    await this.nextOrNewest(index, await this.seal(index));
  }

  /**
   * After segment `index` was sealed: writes go to the segment after it, created here with `acl`
   * (else the parent's), unless a newer one exists. The log may be past `index` already: a writer
   * that learns late where its batch landed (a reply lost to an outage, found again after a
   * reconnect or a new session) rolls a segment the others left long ago, and retention may have
   * removed the emptied ones after it. One created again would sit behind every reader, and this
   * writer's next batches in it would be read by no one (then deleted by retention): writes go on
   * in the newest segment instead.
   */
  private async nextOrNewest(index: number, acl?: readonly Acl[]): Promise<void> {
    const listing = await this.listing();
    const newest = listing.indices.at(-1) ?? index;
    if (newest > index) {
      this.writeIndex = Math.max(this.writeIndex ?? 0, newest);
      return;
    }
    if (index + 1 >= this.maxSegments) {
      throw new SequenceExhaustedError(this.parent, this.maxSegments);
    }
    const nextAcl = acl ?? (await this.connection.getAcl(this.parent)).acl;
    await this.createNext(index, nextAcl, listing.version);
  }

  /**
   * The segments, ascending, with the parent's data version when they were listed (see
   * createNext); `watch` is a one-shot children watch on the parent.
   */
  private async listing(watch?: () => void): Promise<{ indices: number[]; version?: number }> {
    const read = await this.connection
      .getChildrenWithStat(this.parent, watch ? { watch } : {})
      .catch(whenNoNode(undefined));
    if (!read) return { indices: [] };
    return { indices: segmentIndices(this.base, read.children), version: read.stat.version };
  }

  /**
   * Makes segment `index` take no more children (a gone segment takes none already): its ACL
   * loses CREATE for everyone. Needs ADMIN on the segment (NoAuthError without it). Resolves to
   * the ACL it had before, when this call sealed it.
   */
  async seal(index: number): Promise<readonly Acl[] | undefined> {
    const folder = this.folder(index);
    try {
      for (;;) {
        const { acl, stat } = await this.connection.getAcl(folder);
        if (!acl.some((entry) => entry.perms & Permission.CREATE)) return undefined;
        const sealed = acl.map((entry) => ({ ...entry, perms: entry.perms & ~Permission.CREATE }));
        try {
          await this.connection.setAcl(folder, sealed, { version: stat.aversion });
          return acl;
        } catch (error) {
          if (!(error instanceof BadVersionError)) throw error;
        }
      }
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      return undefined;
    }
  }

  /** Whether segment `index` takes no more children: no one has CREATE on it, or it is gone. */
  async isSealed(index: number): Promise<boolean> {
    const read = await this.connection.getAcl(this.folder(index)).catch(whenNoNode(undefined));
    return !read || !read.acl.some((entry) => entry.perms & Permission.CREATE);
  }

  /**
   * Creates segment `index + 1` (unless it exists) with `acl`: the old segment's ACL as it was
   * before the seal (or the parent's, when a roll that stopped half-way is finished), so a
   * protected log stays protected, and every writer keeps its rights, whatever the roller's
   * `defaultAcl`; then writes go there, or to the newest segment when another roll came first.
   *
   * With `multi`, the create is fenced by the parent's data version as the listing that found
   * `index` newest saw it, and bumps it in the same transaction: each roll moves the version on,
   * so a create sent on an out-of-date listing, or sent again by the connection's retry after an
   * outage while the log rolled on and retention removed the segment meanwhile, fails instead of
   * creating a removed segment again behind every reader. Without `multi`, or for a writer that may
   * not write the parent, the segments are listed before and after the create: one that came
   * back that way is sealed at once and not written to (a writer that still takes it for the
   * newest segment could write one batch to it in between, unread).
   */
  private async createNext(
    index: number,
    acl: readonly Acl[],
    parentVersion?: number,
  ): Promise<void> {
    const next = this.folder(index + 1);
    let created: boolean | 'unfenced' = 'unfenced';
    if (parentVersion !== undefined && this.connection.capabilities.multi) {
      created = await this.connection
        .multi([
          { type: 'set', path: this.parent, data: '', version: parentVersion },
          { type: 'create', path: next, data: '', mode: CreateMode.PERSISTENT, acl },
        ])
        .then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof TransactionFailedError)) throw error;
            // A writer that may create segments but not write the parent (a publish-only ACL):
            // the create alone, checked by the listing only, as without multi.
            if (error.index === 0 && error.failure instanceof NoAuthError) return 'unfenced';
            return false;
          },
        );
      if (created === false) {
        // Another roll moved the parent on (or an earlier try of this one went through).
        const newest = (await this.indices()).at(-1) ?? index;
        this.writeIndex = Math.max(this.writeIndex ?? 0, newest);
        return;
      }
    }
    if (created !== true) {
      created = await this.connection
        .create(next, '', { mode: CreateMode.PERSISTENT, acl })
        .then(() => true, whenNodeExists(false));
      // Unfenced: a create that reached the server late (a retry after an outage) may have made
      // a segment the log had left. Then it is sealed at once and writes go on in the newest.
      const newest = (await this.indices()).at(-1) ?? index + 1;
      if (newest > index + 1) {
        await this.seal(index + 1).catch(() => undefined);
        this.writeIndex = Math.max(this.writeIndex ?? 0, newest);
        return;
      }
    }
    this.writeIndex = Math.max(this.writeIndex ?? 0, index + 1);
    if (created) this.report({ type: 'segment-rolled', folder: next, segment: index + 1 });
  }

  /**
   * Seals and removes every segment before the newest that holds none of `entries` (a listing
   * taken after the deletes that emptied them). A segment a late write reached before its seal
   * is not empty, and stays.
   */
  async removeEmpty(entries: readonly SegmentEntry[], indices?: readonly number[]): Promise<void> {
    const all = indices ?? (await this.indices());
    const holding = new Set(entries.map((entry) => entry.segment));
    for (const index of all.slice(0, -1)) {
      if (holding.has(index)) continue;
      await this.seal(index);
      // Not empty after all, or removed by someone else: either way nothing to do.
      await this.connection.delete(this.folder(index)).catch(() => undefined);
    }
  }

  /**
   * Every entry of every segment, again after each change (children watches on the parent and
   * on each segment). Across segments the list is in segment order; use it where a late entry
   * of an older segment may come after newer ones (a queue), not to move a log reader on.
   */
  watchEntries(): Observable<SegmentListing> {
    return watchChildren(this.connection, this.parent).pipe(
      map((names) => segmentIndices(this.base, names)),
      distinctUntilChanged((a, b) => a.length === b.length && a.every((x, i) => x === b[i])),
      switchMap((indices) =>
        indices.length === 0
          ? of({ indices, entries: [] })
          : combineLatest(
              indices.map((index) =>
                watchChildren(this.connection, this.folder(index)).pipe(
                  map((names) => parseSegmentEntries(names, this.folder(index), index)),
                ),
              ),
            ).pipe(map((lists) => ({ indices, entries: lists.flat() }))),
      ),
    );
  }
}

/** `path` as a folder that never rolls over (its writers have no use for segments). */
export function singleFolder(connection: ZookeeperConnection, path: string): SegmentedFolder {
  return new SegmentedFolder(connection, parentPath(path), nodeName(path), {
    rolloverAt: Infinity,
  });
}

/** The segment numbers among a parent's children `names`, ascending. */
export function segmentIndices(base: string, names: readonly string[]): number[] {
  const indices: number[] = [];
  for (const name of names) {
    const index = segmentIndexOf(base, name);
    if (index !== undefined) indices.push(index);
  }
  return indices.sort((a, b) => a - b);
}

/**
 * A create refused by a sealed segment's ACL, or sent to a segment already removed, alone or
 * inside a transaction (the caller checks the segment itself: an error about another node of the
 * transaction comes with a segment that exists and is not sealed).
 */
function isRefusal(error: unknown): boolean {
  const failure = error instanceof TransactionFailedError ? error.failure : error;
  return failure instanceof NoAuthError || failure instanceof NoNodeError;
}
