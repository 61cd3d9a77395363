import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AuthInfo,
  messageOffset,
  NoNodeError,
  SegmentedFolder,
  ZookeeperConnection,
} from '../../libs/zookeeper/src/index.js';
import type { Leftovers, QueueLeftovers } from './observations.js';

/**
 * What ZooKeeper holds at the end (read with a connection of its own): the inbox's and the jobs
 * queue's items, locks, progress nodes and dead letters, the log's last offset against each
 * consumer's committed offset, and the election's nodes. Polled until clean or `timeoutMs`:
 * a killed app's ephemeral lock goes only with its session, and commits are batched.
 */
export async function readLeftovers(options: {
  connectString: string;
  namespace: string;
  /** The apps' credentials when they protect what they create (--acl). */
  auth?: AuthInfo[];
  consumers: readonly string[];
  producersRunning: number;
  timeoutMs: number;
}): Promise<Leftovers> {
  const zk = await ZookeeperConnection.connect({
    connectString: options.connectString,
    namespace: options.namespace,
    auth: options.auth,
    sessionTimeoutMs: 10_000,
    // Its connection state lines would only clutter the run's output.
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
  });
  try {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const leftovers = await readOnce(zk, options.consumers, options.producersRunning);
      if (isClean(leftovers, options.consumers) || Date.now() > deadline) return leftovers;
      await sleep(500);
    }
  } finally {
    await zk.close();
  }
}

async function children(zk: ZookeeperConnection, path: string): Promise<string[]> {
  try {
    return await zk.getChildren(path);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

async function queue(zk: ZookeeperConnection, path: string): Promise<QueueLeftovers> {
  // Items across the queue's segments (items, items.1, ...), read without preparing the queue.
  const [items, locks, progress, dead] = await Promise.all([
    new SegmentedFolder(zk, path, 'items').entries(),
    ...['locks', 'progress', 'dead'].map((folder) => children(zk, `${path}/${folder}`)),
  ]);
  return {
    items: items.length,
    locks: locks!.length,
    progress: progress!.length,
    dead: dead!.length,
  };
}

async function readOnce(
  zk: ZookeeperConnection,
  consumers: readonly string[],
  producersRunning: number,
): Promise<Leftovers> {
  const topic = '/nest-microservices/broadcast/messages';
  const last = (await new SegmentedFolder(zk, topic, 'log').entries()).at(-1);
  const logLastOffset = last && messageOffset(last.sequence, last.count - 1);
  const committed: Record<string, number | undefined> = {};
  for (const name of consumers) {
    try {
      const { data } = await zk.get(`${topic}/offsets/${name}`);
      committed[name] = (JSON.parse(data.toString('utf8')) as { offset: number }).offset;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }
  return {
    inbox: await queue(zk, '/inbox'),
    jobs: await queue(zk, '/nest-microservices/events/jobs'),
    logLastOffset,
    committed,
    electionNodes: (await children(zk, '/master')).length,
    producersRunning,
  };
}

function isClean(leftovers: Leftovers, consumers: readonly string[]): boolean {
  const queues = [leftovers.inbox, leftovers.jobs];
  return (
    queues.every((q) => q.items + q.locks + q.progress + q.dead === 0) &&
    leftovers.electionNodes === leftovers.producersRunning &&
    consumers.every((name) => leftovers.committed[name] === leftovers.logLastOffset)
  );
}
