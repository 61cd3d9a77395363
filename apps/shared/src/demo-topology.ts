import type { BroadcastLogOptions, WorkQueueOptions } from 'nestjs-zookeeper';

/**
 * Where the demo's master/client flow lives in ZooKeeper (relative to ZK_NAMESPACE):
 *
 * - `/clients`: the group of running consumers (library Membership recipe): one ephemeral
 *   sequential member node `_c_<uuid>-member-<seq>` each, holding its name, pid and port.
 * - `/master`: the producers' leader election (Curator LeaderLatch layout).
 * - `/inbox`: work queue from every producer to the master (POST /messages lands here).
 * - `/messages`: the broadcast log the master appends to; every consumer reads all of it.
 * - `/jobs`: work queue shared by the consumers (POST /jobs): each job is done by one of them.
 */
export const DEMO_PATHS = {
  clients: '/clients',
  master: '/master',
  inbox: '/inbox',
  messages: '/messages',
  jobs: '/jobs',
} as const;

/**
 * The options every service asks `ZookeeperMessaging` for each queue and log with. It keeps one
 * instance per path, configured by the first request, and throws when a later request for the
 * same path brings different options: so no service spells its own.
 */
export const DEMO_MESSAGING_OPTIONS: {
  readonly inbox: WorkQueueOptions;
  readonly jobs: WorkQueueOptions;
  readonly messages: BroadcastLogOptions;
} = {
  // POSTs arriving within 5 ms of each other share one batch znode (the library's default).
  inbox: { lingerMs: 5 },
  jobs: { lingerMs: 5 },
  // No linger: the master's relay appends one message at a time and waits for each.
  messages: { lingerMs: 0 },
};

/** A message as it travels through the inbox and the log. */
export interface DemoMessage {
  id: string;
  text: string;
  /** The producer instance that accepted the POST. */
  acceptedBy: string;
  acceptedAt: string;
}
