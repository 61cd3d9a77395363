import type { BroadcastLogOptions, WorkQueueOptions, ZookeeperConnection } from 'nestjs-zookeeper';
import { DEFAULT_TRANSPORT_ROOT, type ClientZookeeperOptions } from 'nestjs-zookeeper/transport';

/**
 * Where the demo's master/client flow lives in ZooKeeper (relative to ZK_NAMESPACE):
 *
 * - `/clients`: the group of running consumers (library Membership recipe): one ephemeral
 *   sequential member node `_c_<uuid>-member-<seq>` each, holding its name, pid and port.
 * - `/master`: the producers' leader election (Curator LeaderLatch layout).
 * - `/inbox`: work queue from every producer to the master (POST /messages lands here).
 * - under the microservice transport's root (DEMO_TRANSPORT.root), the consumers' patterns:
 *   `broadcast/messages` the log the master appends to (every consumer reads all of it),
 *   `events/jobs` the work queue of POST /jobs (each job done by one consumer),
 *   `requests/consumer-stats` the producers' questions to the consumers, answered in `replies/`.
 */
export const DEMO_PATHS = {
  clients: '/clients',
  master: '/master',
  inbox: '/inbox',
} as const;

/** The patterns the consumers serve over the transport (ServerZookeeper). */
export const DEMO_PATTERNS = {
  /** Broadcast event: every consumer receives every message, in log order. */
  messages: 'messages',
  /** Queue event: each job is done by one consumer. */
  jobs: 'jobs',
  /** Request: one consumer answers with its counts. */
  consumerStats: 'consumer-stats',
} as const;

const TRANSPORT_ROOT = DEFAULT_TRANSPORT_ROOT;

/**
 * The transport's root and the znodes of its patterns, as the transport lays them out
 * (`<root>/broadcast/<pattern>`, `<root>/events/<pattern>`): the producer reads their sizes for
 * its status page; nothing else in the demo writes or reads them directly.
 */
export const DEMO_TRANSPORT = {
  root: TRANSPORT_ROOT,
  messagesLog: `${TRANSPORT_ROOT}/broadcast/${DEMO_PATTERNS.messages}`,
  jobsQueue: `${TRANSPORT_ROOT}/events/${DEMO_PATTERNS.jobs}`,
  /**
   * How long a producer's status page waits for a consumer's answer. Short: the page must answer
   * even when no consumer does (a killed consumer holds a taken request until its session ends).
   */
  requestTimeoutMs: 1000,
} as const;

/**
 * The producers' ClientZookeeper options. Both event patterns are declared here rather than
 * learned from the consumers' declarations: `messages` must go to the broadcast log even when
 * the master relays before any consumer started (an undeclared pattern would go to a work queue
 * no broadcast subscriber reads), and a declared `jobs` saves a lookup per emit.
 */
export function demoClientOptions(connection: ZookeeperConnection): ClientZookeeperOptions {
  return {
    connection,
    root: DEMO_TRANSPORT.root,
    patterns: {
      [DEMO_PATTERNS.messages]: { broadcast: true },
      [DEMO_PATTERNS.jobs]: { broadcast: false },
    },
    requestTimeoutMs: DEMO_TRANSPORT.requestTimeoutMs,
  };
}

/**
 * The options every service asks `ZookeeperMessaging` for each queue and log with. It keeps one
 * instance per path, configured by the first request, and throws when a later request for the
 * same path brings different options: so no service spells its own. The transport's log and jobs
 * queue are written through the transport (with its own options); the producer opens them here
 * only to count what they hold.
 */
export const DEMO_MESSAGING_OPTIONS: {
  readonly inbox: WorkQueueOptions;
  readonly jobs: WorkQueueOptions;
  readonly messages: BroadcastLogOptions;
} = {
  // POSTs arriving within 5 ms of each other share one batch znode (the library's default).
  // Batches stay well below the log's 900 kB: the relay turns each message into a transport
  // packet (a few dozen bytes more) and appends whole inbox batches as one log batch.
  inbox: { lingerMs: 5, maxBatchBytes: 400_000 },
  // As the transport opens them.
  jobs: { lingerMs: 0 },
  messages: { lingerMs: 0 },
};

/**
 * The master's relay steps start at least this far apart: under load, the POSTs it accepts and the
 * inbox batches that come within it share one log batch (one fenced write, and one read by each
 * consumer, for several messages). A lone POST after a quiet spell is not held. On the bench's 2
 * cores, paced at 500/s, the machine ran out of CPU with a step per message or two (ZooKeeper
 * alone used ~1.4 ms of CPU per message), and queueing behind it made the tail: 3 alternating
 * rounds each of `npx tsx bench/run.ts --only flow --no-write` gave p99 229/196/233 ms with 0 ms,
 * 94/78/40 ms with 10 ms, 76/32/30 ms with 20 ms (ZooKeeper ~0.6 ms per message), for a p50 of
 * 16 ms instead of 7-13 ms.
 */
export const DEMO_RELAY_LINGER_MS = 20;

/** A message as it travels through the inbox and the log (and a job through the jobs queue). */
export interface DemoMessage {
  id: string;
  text: string;
  /** The producer instance that accepted the POST. */
  acceptedBy: string;
  acceptedAt: string;
}

/** A consumer's answer to the `consumer-stats` request. */
export interface ConsumerStats {
  /** The consumer instance that answered (its INSTANCE_NAME). */
  name: string;
  pid: number;
  /** Broadcast messages received by this process, and the offset of the last one. */
  received: { count: number; lastOffset: number | null };
  /** Jobs this process did. */
  jobsDone: number;
}
