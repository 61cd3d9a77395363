import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { whenNoNode } from '../../internal/no-node.js';
import { BatchEntry, parseBatchEntries } from '../shared/entry-names.js';
import { lastOffsetOf, parseOffset } from './offsets.js';

export interface RetentionOptions {
  /** Compact after commits, at most once per `intervalMs`. Default true. */
  auto?: boolean;
  /** Default 5000 ms. */
  intervalMs?: number;
  /** Keep at most this many batch znodes, even if a subscriber has not read them (announced). */
  maxEntries?: number;
  /** Delete batch znodes older than this, even if a subscriber has not read them (announced). */
  maxAgeMs?: number;
}

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
}

export interface CompactResult {
  deletedEntries: number;
  /** The lowest committed offset of the durable subscribers (undefined: none). */
  minCommittedOffset?: number;
}

export interface TopicPaths {
  log: string;
  clients: string;
  offsets: string;
}

/**
 * One compaction pass. Entries every durable subscriber (one with a stored offset) committed past
 * go first, except the newest entry, which that rule never deletes so the log's end offset stays
 * readable (`stats().lastOffset`); with no durable subscriber, nothing goes on that rule, so
 * messages published before anyone registered with `from: 'earliest'` are still there when they
 * do. The limits then delete the oldest entries beyond them, announcing every subscriber they
 * overtake before deleting.
 */
export async function compactLog(
  connection: ZookeeperConnection,
  paths: TopicPaths,
  options: RetentionOptions,
  announce: (overrun: RetentionOverrun) => void,
): Promise<CompactResult> {
  const committed = await readCommitted(connection, paths.offsets);
  const entries = parseBatchEntries(await connection.getChildren(paths.log));
  const min = committed.size > 0 ? Math.min(...committed.values()) : undefined;
  let doomed = min === undefined ? 0 : entries.findIndex((entry) => lastOffsetOf(entry) > min);
  if (doomed < 0) doomed = Math.max(entries.length - 1, 0);

  const byLimit = await entriesBeyondLimits(connection, paths.log, entries, doomed, options);
  if (byLimit.count > doomed) {
    const deletedThrough = lastOffsetOf(entries[byLimit.count - 1]);
    const clients = await registeredIds(connection, paths.clients);
    for (const [subscriberId, committedOffset] of committed) {
      if (committedOffset >= deletedThrough) continue;
      announce({
        type: 'retention-overrun',
        subscriberId,
        active: clients.has(subscriberId),
        committedOffset,
        deletedThroughOffset: deletedThrough,
        reason: byLimit.reason,
      });
    }
    doomed = byLimit.count;
  }
  await deleteAll(connection, paths.log, entries.slice(0, doomed));
  return { deletedEntries: doomed, minCommittedOffset: min };
}

/** The committed offset of every durable subscriber (offsets deleted meanwhile are left out). */
export async function readCommitted(
  connection: ZookeeperConnection,
  offsetsPath: string,
): Promise<Map<string, number>> {
  const data = await readChildrenData(connection, offsetsPath);
  return new Map([...data].map(([id, bytes]) => [id, parseOffset(bytes)]));
}

async function registeredIds(
  connection: ZookeeperConnection,
  clientsPath: string,
): Promise<Set<string>> {
  const data = await readChildrenData(connection, clientsPath);
  return new Set([...data.values()].map((bytes) => bytes.toString('utf8')));
}

/** The data of each child of `path`, read in parallel; children deleted meanwhile are left out. */
async function readChildrenData(
  connection: ZookeeperConnection,
  path: string,
): Promise<Map<string, Buffer>> {
  const names = await connection.getChildren(path);
  const read = await Promise.all(
    names.map((name) =>
      connection
        .get(joinPath(path, name))
        .then(({ data }) => [name, data] as const, whenNoNode(undefined)),
    ),
  );
  return new Map(read.filter((entry) => entry !== undefined));
}

/** How many of the oldest entries the limits remove (at least `already`). */
async function entriesBeyondLimits(
  connection: ZookeeperConnection,
  logPath: string,
  entries: readonly BatchEntry[],
  already: number,
  options: RetentionOptions,
): Promise<{ count: number; reason: RetentionOverrun['reason'] }> {
  let count = already;
  let reason: RetentionOverrun['reason'] = 'maxEntries';
  if (options.maxEntries !== undefined) {
    count = Math.max(count, entries.length - options.maxEntries);
  }
  if (options.maxAgeMs !== undefined) {
    const oldest = Date.now() - options.maxAgeMs;
    // Entries are in creation order, so the first young enough one ends the scan.
    for (let index = count; index < entries.length; index++) {
      const stat = await connection.exists(joinPath(logPath, entries[index].name));
      if (stat && stat.ctime.getTime() >= oldest) break;
      count = index + 1;
      reason = 'maxAgeMs';
    }
  }
  return { count, reason };
}

async function deleteAll(
  connection: ZookeeperConnection,
  logPath: string,
  entries: readonly BatchEntry[],
): Promise<void> {
  const inFlight = 64;
  for (let start = 0; start < entries.length; start += inFlight) {
    await Promise.all(
      entries.slice(start, start + inFlight).map((entry) =>
        connection.delete(joinPath(logPath, entry.name)).catch((error) => {
          if (!(error instanceof NoNodeError)) throw error;
        }),
      ),
    );
  }
}
