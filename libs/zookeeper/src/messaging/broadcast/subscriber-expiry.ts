import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { BadVersionError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { parseOffset } from './offsets.js';
import type { RetentionOptions, TopicPaths } from './retention.js';
import { readChildren, registeredIds } from './topic-reads.js';

/** The default `retention.subscriberExpiryMs`: 7 days. */
export const DEFAULT_SUBSCRIBER_EXPIRY_MS = 7 * 24 * 3600 * 1000;

/**
 * A durable subscriber forgotten by retention: no client node and no offset write for
 * `subscriberExpiryMs`. If that id subscribes again, it starts afresh (its `from` option).
 */
export interface SubscriberExpired {
  type: 'subscriber-expired';
  subscriberId: string;
  committedOffset: number;
  /** When its offset was last written (the znode's mtime, server clock). */
  lastWrittenAt: Date;
}

/**
 * Forgets the subscribers absent for `subscriberExpiryMs`: no client node, offset not written
 * since. The delete is conditional on the version read, so a subscriber that registers meanwhile
 * (registration rewrites its offset) or commits is kept.
 */
export async function expireSubscribers(
  connection: ZookeeperConnection,
  paths: TopicPaths,
  options: RetentionOptions,
  announce: (event: SubscriberExpired) => void,
): Promise<void> {
  const expiryMs = options.subscriberExpiryMs ?? DEFAULT_SUBSCRIBER_EXPIRY_MS;
  if (!Number.isFinite(expiryMs)) return;
  const oldest = Date.now() - expiryMs;
  const offsets = await readChildren(connection, paths.offsets);
  const idle = [...offsets].filter(([, { stat }]) => stat.mtime.getTime() < oldest);
  if (idle.length === 0) return;
  const clients = await registeredIds(connection, paths.clients);
  for (const [subscriberId, { data, stat }] of idle) {
    if (clients.has(subscriberId)) continue;
    let committedOffset: number;
    try {
      committedOffset = parseOffset(data, joinPath(paths.offsets, subscriberId));
    } catch {
      continue; // reported as offset-corrupt by the pass; never deleted on a guess
    }
    try {
      await connection.delete(joinPath(paths.offsets, subscriberId), { version: stat.version });
    } catch (error) {
      if (error instanceof BadVersionError || error instanceof NoNodeError) continue;
      throw error;
    }
    announce({
      type: 'subscriber-expired',
      subscriberId,
      committedOffset,
      lastWrittenAt: stat.mtime,
    });
  }
}
