import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { ConnectionClosedError } from '../../errors/library-errors.js';
import { NodeExistsError } from '../../errors/zookeeper-errors.js';
import { CorruptOffsetError } from '../shared/messaging-errors.js';
import { ChangeSignal } from '../../internal/change-signal.js';
import { ignoreNoNode, whenNoNode } from '../../internal/no-node.js';
import { SegmentEntry } from '../shared/entry-names.js';
import { SegmentedFolder } from '../shared/segmented-folder.js';
import { lastOffsetOf, parseOffset } from './offsets.js';
import { expireSubscribers, SubscriberExpired } from './subscriber-expiry.js';
import { readChildrenData, registeredIds } from './topic-reads.js';

export interface RetentionOptions {
  /** Compact after commits, at most once per `intervalMs`. Default true. */
  auto?: boolean;
  /** Default 5000 ms. */
  intervalMs?: number;
  /**
   * Keep at most this many batch znodes, even if a subscriber has not read them (announced).
   * Default 10,000 (DEFAULT_RETENTION_MAX_ENTRIES; its overruns say `defaulted: true`);
   * `Infinity`: no bound.
   */
  maxEntries?: number;
  /** Delete batch znodes older than this, even if a subscriber has not read them (announced). */
  maxAgeMs?: number;
  /**
   * Forget a subscriber (delete its stored offset, `subscriber-expired`) that has had no
   * registered client node and no offset write (commit or registration) for this long, so an
   * abandoned id stops holding retention. Default 7 days (DEFAULT_SUBSCRIBER_EXPIRY_MS);
   * `Infinity`: never.
   */
  subscriberExpiryMs?: number;
}

/** The default `retention.maxEntries`: batch znodes kept at most. */
export const DEFAULT_RETENTION_MAX_ENTRIES = 10_000;

/** Entries deleted before a durable subscriber committed past them (maxEntries / maxAgeMs). */
export interface RetentionOverrun {
  type: 'retention-overrun';
  subscriberId: string;
  /** Whether the subscriber had a registered client node (a live process) at the time. */
  active: boolean;
  /** Its committed offset, and the last offset deleted ahead of it. */
  committedOffset: number;
  deletedThroughOffset: number;
  reason: 'maxEntries' | 'maxAgeMs';
  /** The limit was the default `maxEntries` (none was set). */
  defaulted: boolean;
}

/**
 * A child of `offsets/` that holds no offset (written by something else): left out of retention
 * (which goes on for the others) and reported on every pass until it is fixed or removed.
 */
export interface OffsetCorrupt {
  type: 'offset-corrupt';
  subscriberId: string;
  error: CorruptOffsetError;
}

export type RetentionEvent = RetentionOverrun | OffsetCorrupt | SubscriberExpired;

export interface CompactResult {
  deletedEntries: number;
  /** The lowest committed offset of the durable subscribers (undefined: none). */
  minCommittedOffset?: number;
}

export interface TopicPaths {
  /** Segment 0 of the log (`log.1`, `log.2`, ... follow it, see SegmentedFolder). */
  log: string;
  clients: string;
  offsets: string;
  /** Ephemeral: a compaction is deleting (registrations wait for it, see `compactLog`). */
  compacting: string;
}

/**
 * One compaction pass. Entries every durable subscriber (one with a stored offset) committed past
 * go first, except the newest entry, which that rule never deletes so the log's end offset stays
 * readable (`stats().lastOffset`); with no durable subscriber, nothing goes on that rule, so
 * messages published before anyone registered with `from: 'earliest'` are still there when they
 * do. The limits then delete the oldest entries beyond them, announcing every subscriber they
 * overtake before deleting.
 *
 * Against registrations: a new subscriber stores its offset, then looks for the ephemeral
 * `compacting` node; a compaction that will delete creates that node, then reads the offsets
 * again and deletes by what it read. Both are a write then a read on one session, so at least one
 * sees the other: either the compaction reads the new offset (and keeps what it needs), or the
 * registration sees the node and waits until it is gone, i.e. until the deletes are over, before
 * it lists the log. The same on every driver (no transaction needed).
 */
export async function compactLog(
  connection: ZookeeperConnection,
  paths: TopicPaths,
  log: SegmentedFolder,
  options: RetentionOptions,
  announce: (event: RetentionEvent) => void,
): Promise<CompactResult> {
  // One pass at a time per session and topic: a `compacting` node of this session is then stale.
  let passes = inProcess.get(connection);
  if (!passes) inProcess.set(connection, (passes = new Map()));
  const before = passes.get(paths.compacting) ?? Promise.resolve();
  const pass = before.then(() => compactOnce(connection, paths, log, options, announce));
  const settled = pass.then(
    () => undefined,
    () => undefined,
  );
  passes.set(paths.compacting, settled);
  void settled.then(() => {
    if (passes.get(paths.compacting) === settled) passes.delete(paths.compacting);
  });
  return pass;
}

const inProcess = new WeakMap<ZookeeperConnection, Map<string, Promise<void>>>();

async function compactOnce(
  connection: ZookeeperConnection,
  paths: TopicPaths,
  log: SegmentedFolder,
  options: RetentionOptions,
  announce: (event: RetentionEvent) => void,
): Promise<CompactResult> {
  await expireSubscribers(connection, paths, options, announce);
  // A first look without the node: a pass with nothing to delete writes nothing.
  const first = await planCompaction(connection, paths, log, options);
  for (const event of first.corrupt) announce(event);
  if (first.doomed.length === 0) {
    await log.removeEmpty(first.entries);
    return { deletedEntries: 0, minCommittedOffset: first.min };
  }
  await holdCompactionNode(connection, paths.compacting);
  try {
    const plan = await planCompaction(connection, paths, log, options);
    const reported = new Set(first.corrupt.map((event) => event.subscriberId));
    for (const event of plan.corrupt) if (!reported.has(event.subscriberId)) announce(event);
    for (const overrun of plan.overruns) announce(overrun);
    await deleteAll(connection, plan.doomed);
    await log.removeEmpty(plan.entries.slice(plan.doomed.length));
    return { deletedEntries: plan.doomed.length, minCommittedOffset: plan.min };
  } finally {
    await releaseCompactionNode(connection, paths.compacting);
  }
}

interface CompactionPlan {
  entries: readonly SegmentEntry[];
  doomed: readonly SegmentEntry[];
  min?: number;
  overruns: RetentionOverrun[];
  corrupt: OffsetCorrupt[];
}

async function planCompaction(
  connection: ZookeeperConnection,
  paths: TopicPaths,
  log: SegmentedFolder,
  options: RetentionOptions,
): Promise<CompactionPlan> {
  const corrupt: OffsetCorrupt[] = [];
  const committed = await readCommitted(connection, paths.offsets, (subscriberId, error) =>
    corrupt.push({ type: 'offset-corrupt', subscriberId, error }),
  );
  const entries = await log.entries();
  const min = committed.size > 0 ? Math.min(...committed.values()) : undefined;
  let doomed = min === undefined ? 0 : entries.findIndex((entry) => lastOffsetOf(entry) > min);
  if (doomed < 0) doomed = Math.max(entries.length - 1, 0);

  const overruns: RetentionOverrun[] = [];
  const byLimit = await entriesBeyondLimits(connection, entries, doomed, options);
  if (byLimit.count > doomed) {
    const deletedThrough = lastOffsetOf(entries[byLimit.count - 1]);
    const clients = await registeredIds(connection, paths.clients);
    for (const [subscriberId, committedOffset] of committed) {
      if (committedOffset >= deletedThrough) continue;
      overruns.push({
        type: 'retention-overrun',
        subscriberId,
        active: clients.has(subscriberId),
        committedOffset,
        deletedThroughOffset: deletedThrough,
        reason: byLimit.reason,
        defaulted: byLimit.reason === 'maxEntries' && options.maxEntries === undefined,
      });
    }
    doomed = byLimit.count;
  }
  return { entries, doomed: entries.slice(0, doomed), min, overruns, corrupt };
}

/**
 * Creates the ephemeral `compacting` node. Another process's node means another compaction is
 * deleting: this one waits until it is gone (its end, or its session's). A node of this session
 * is one a failed release left behind: taken over.
 */
async function holdCompactionNode(connection: ZookeeperConnection, path: string): Promise<void> {
  for (;;) {
    try {
      await connection.create(path, '', { mode: CreateMode.EPHEMERAL });
      return;
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
    const stat = await connection.exists(path);
    if (stat && sameSession(stat.ephemeralOwner, connection.session.id)) return;
    if (stat) await whileNodeExists(connection, path);
  }
}

/** Deletes the `compacting` node; if that fails, tries again in the background until it is gone. */
async function releaseCompactionNode(connection: ZookeeperConnection, path: string): Promise<void> {
  try {
    await connection.delete(path).catch(ignoreNoNode);
  } catch {
    // Registrations wait while it exists (at most until this session ends).
    const retry = (): void => {
      void connection
        .delete(path)
        .catch(ignoreNoNode)
        .catch((error: unknown) => {
          if (error instanceof ConnectionClosedError) return;
          setTimeout(retry, 1000).unref();
        });
    };
    setTimeout(retry, 1000).unref();
  }
}

/**
 * The registration's half of the exclusion (see `compactLog`): called after a new subscriber
 * stored its offset, resolves once no compaction that may have missed that offset is deleting.
 */
export async function afterCompactions(connection: ZookeeperConnection, paths: TopicPaths) {
  await whileNodeExists(connection, paths.compacting);
}

/** Resolves once `path` does not exist (a data watch on it, no polling). */
async function whileNodeExists(connection: ZookeeperConnection, path: string): Promise<void> {
  for (;;) {
    const signal = new ChangeSignal();
    // A get sets no watch on a missing node, so none is left behind once it is gone.
    const present = await connection
      .get(path, { watch: signal.watcher })
      .then(() => true, whenNoNode(false));
    if (!present) return;
    await signal.wait(undefined);
  }
}

function sameSession(a: string, b: string): boolean {
  try {
    return BigInt(`0x${a}`) === BigInt(`0x${b}`);
  } catch {
    return false;
  }
}

/**
 * The committed offset of every durable subscriber (offsets deleted meanwhile are left out, and
 * so are corrupt ones, each handed to `corrupt`).
 */
export async function readCommitted(
  connection: ZookeeperConnection,
  offsetsPath: string,
  corrupt: (subscriberId: string, error: CorruptOffsetError) => void = () => undefined,
): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  for (const [id, bytes] of await readChildrenData(connection, offsetsPath)) {
    try {
      committed.set(id, parseOffset(bytes, joinPath(offsetsPath, id)));
    } catch (error) {
      if (!(error instanceof CorruptOffsetError)) throw error;
      corrupt(id, error);
    }
  }
  return committed;
}

/** How many of the oldest entries the limits remove (at least `already`). */
async function entriesBeyondLimits(
  connection: ZookeeperConnection,
  entries: readonly SegmentEntry[],
  already: number,
  options: RetentionOptions,
): Promise<{ count: number; reason: RetentionOverrun['reason'] }> {
  let count = already;
  let reason: RetentionOverrun['reason'] = 'maxEntries';
  const maxEntries = options.maxEntries ?? DEFAULT_RETENTION_MAX_ENTRIES;
  if (Number.isFinite(maxEntries)) count = Math.max(count, entries.length - maxEntries);
  if (options.maxAgeMs !== undefined) {
    const oldest = Date.now() - options.maxAgeMs;
    // Entries are in creation order, so the first young enough one ends the scan.
    for (let index = count; index < entries.length; index++) {
      const stat = await connection.exists(entries[index].path);
      if (stat && stat.ctime.getTime() >= oldest) break;
      count = index + 1;
      reason = 'maxAgeMs';
    }
  }
  return { count, reason };
}

/** Deletes per transaction: one fsynced write for them all, far below the 1 MB request limit. */
const DELETES_PER_TRANSACTION = 500;
/** Deletes in flight without transactions. */
const DELETES_IN_FLIGHT = 64;

/**
 * Deletes the entries. With the driver's `multi`, in transactions of DELETES_PER_TRANSACTION: one
 * server write each instead of one per entry, so the reads of this session (a subscriber's next
 * batches, queued behind its writes) and every other session wait for a few writes, not hundreds.
 * A transaction that fails (an entry deleted meanwhile, a lost reply after it applied, or any
 * other error: a multi is not retried) leaves its entries to single deletes, which the connection
 * retries and where a missing one is fine.
 */
async function deleteAll(
  connection: ZookeeperConnection,
  entries: readonly SegmentEntry[],
): Promise<void> {
  if (connection.capabilities.multi) {
    for (let start = 0; start < entries.length; start += DELETES_PER_TRANSACTION) {
      const chunk = entries.slice(start, start + DELETES_PER_TRANSACTION);
      const applied = await connection
        .multi(chunk.map((entry) => ({ type: 'delete' as const, path: entry.path })))
        .then(
          () => true,
          // Refused, lost or failed (a multi is not retried): single deletes, which are.
          (error: unknown) =>
            error instanceof ConnectionClosedError ? Promise.reject(error) : false,
        );
      if (!applied) await deleteEach(connection, chunk);
    }
    return;
  }
  await deleteEach(connection, entries);
}

async function deleteEach(
  connection: ZookeeperConnection,
  entries: readonly SegmentEntry[],
): Promise<void> {
  for (let start = 0; start < entries.length; start += DELETES_IN_FLIGHT) {
    await Promise.all(
      entries
        .slice(start, start + DELETES_IN_FLIGHT)
        .map((entry) => connection.delete(entry.path).catch(ignoreNoNode)),
    );
  }
}
