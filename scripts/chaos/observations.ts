/**
 * What a chaos run observed, as plain data: what the load generator got acknowledged, what each
 * app logged (parsed from its log files), the faults injected and the state ZooKeeper was left
 * in. The checker (checker.ts) judges only this, so it can be fed synthetic data in tests.
 * Every `atMs` is on the machine's monotonic clock (milliseconds, shared by all processes).
 */

export type FaultType =
  | 'zk-kill'
  | 'zk-kill-leader'
  | 'zk-pause'
  | 'master-kill'
  | 'master-pause'
  | 'consumer-kill'
  | 'consumer-expire'
  | 'consumer-pause';

export interface FaultRecord {
  type: FaultType;
  /** What was hit, resolved when injected: `zk-2 (leader)`, `producer-1 (master)`, `consumer-b`. */
  target: string;
  /** Since the start of the load. */
  atMs: number;
  /** How long the fault lasted until healed (restarted, resumed, expiry done). */
  healedAfterMs?: number;
  /** Why healing failed, or what else happened (e.g. the master was unknown). */
  note?: string;
  /** True when healing failed: the run did not end in a healthy state. */
  failed?: boolean;
}

/** One `[Receiver] offset <n>: <id>` line of a consumer process. */
export interface Delivery {
  pid: number;
  offset: number;
  id: string;
  atMs: number;
}

/** One `[Jobs] done <id>` line. */
export interface JobRun {
  id: string;
  consumer: string;
  pid: number;
  atMs: number;
}

/** One `[Master] appended <entry> (<n> messages) term <czxid>` line: a log batch a master wrote. */
export interface Append {
  producer: string;
  pid: number;
  /** The master's fencing token (its election node's czxid). */
  term: number;
  /** The log batch znode's sequence number: the log's order. */
  sequence: number;
  messages: number;
  atMs: number;
}

/** One `[Master] elected master … term <czxid>` line, and the `no longer master` after it. */
export interface Term {
  producer: string;
  pid: number;
  term: number;
  electedAtMs: number;
  endedAtMs?: number;
}

/** What ZooKeeper held once the load stopped, the faults were healed and the consumers caught up. */
export interface Leftovers {
  inbox: QueueLeftovers;
  jobs: QueueLeftovers;
  /** The broadcast log's last offset, and each consumer's committed offset. */
  logLastOffset?: number;
  committed: Record<string, number | undefined>;
  /** Election nodes under /master, and producers running. */
  electionNodes: number;
  producersRunning: number;
}

export interface QueueLeftovers {
  items: number;
  locks: number;
  progress: number;
  dead: number;
}

export interface ChaosObservations {
  seed: number;
  durationMs: number;
  /** Message and job ids the producers answered 202 for, and when (ms since the load started). */
  acknowledged: { messages: string[]; jobs: string[] };
  ackTimesMs: number[];
  /** POSTs that failed or timed out: not acknowledged, but possibly delivered. */
  unacknowledged: { messages: string[]; jobs: string[] };
  /** Per consumer name, its deliveries in the order its processes logged them (process by process). */
  consumers: Record<string, Delivery[]>;
  jobRuns: JobRun[];
  appends: Append[];
  terms: Term[];
  faults: FaultRecord[];
  /** The monotonic time the load started at (faults' atMs are relative to it). */
  loadStartedAtMs: number;
  /** Unset when they could not be read. */
  leftovers?: Leftovers;
}
