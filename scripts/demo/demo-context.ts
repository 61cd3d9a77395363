import type { ZookeeperTestingServer } from '../../libs/zookeeper/src/testing/index.js';
import type { DemoApps } from './demo-apps.js';
import type { DeliveryTally } from './delivery-tally.js';
import type { Sender } from './sender.js';
import type { StepRunner } from './step-runner.js';

/** What the command line asked for, and the fixed cast of apps. */
export interface DemoPlan {
  messages: number;
  jobs: number;
  /** Messages per second. */
  rate: number;
  /** The apps' ZooKeeper session timeout: how long a master takeover takes. */
  sessionTimeoutMs: number;
  producers: readonly string[];
  consumers: readonly string[];
}

/** What happened so far: what the summary reports. */
export interface DemoRecord {
  readonly startedAt: number;
  /** Ids the producers accepted (202), and requests never accepted. */
  readonly sent: { messages: string[]; jobs: string[]; refused: number };
  /** Each master seen, in order. */
  readonly masters: string[];
  /** From the master's SIGKILL to its standby answering as master. */
  takeoverMs?: number;
}

/** Everything the demo's steps share. */
export interface DemoContext {
  readonly plan: DemoPlan;
  readonly record: DemoRecord;
  readonly apps: DemoApps;
  readonly tally: DeliveryTally;
  readonly sender: Sender;
  readonly steps: StepRunner;
  /** Aborted by the first Ctrl-C. */
  readonly abort: AbortSignal;
  /** Where each app's output is kept. */
  readonly logDir: string;
  /** The throwaway ZooKeeper, when the demo started one (no ZK_CONNECT). */
  server?: ZookeeperTestingServer;
}

export function newRecord(): DemoRecord {
  return { startedAt: Date.now(), sent: { messages: [], jobs: [], refused: 0 }, masters: [] };
}
