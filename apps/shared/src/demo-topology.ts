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

/** A message as it travels through the inbox and the log. */
export interface DemoMessage {
  id: string;
  text: string;
  /** The producer instance that accepted the POST. */
  acceptedBy: string;
  acceptedAt: string;
}
