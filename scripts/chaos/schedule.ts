import type { FaultType } from './observations.js';
import { Prng } from './prng.js';

/** One fault of the schedule: what, when (ms after the load started) and for how long. */
export interface PlannedFault {
  type: FaultType;
  atMs: number;
  /** How long the fault lasts before it is healed (restart, SIGCONT); 0 for an expiry. */
  holdMs: number;
  /** A consumer's name for consumer faults, `zk-<id>` for zk-kill/zk-pause; resolved later otherwise. */
  target: string;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  sessionTimeoutMs: number;
  zookeeperNodes: number;
  consumers: readonly string[];
}

const WEIGHTS: Record<FaultType, number> = {
  'zk-kill': 2,
  'zk-kill-leader': 2,
  'zk-pause': 2,
  'master-kill': 1.5,
  'master-pause': 1.5,
  'consumer-kill': 2,
  'consumer-expire': 2,
  'consumer-pause': 1,
};

/** No fault in the first and last seconds of the load: a baseline, and time to heal. */
const QUIET_START_MS = 2_000;
const QUIET_END_MS = 4_000;

/**
 * The faults of a run, a pure function of the seed and the options (replay a failing run with
 * its seed). Faults overlap, within limits that keep the system able to make progress, so that
 * what a check finds is a bug and not an impossible situation: at most one ZooKeeper node down or
 * paused at a time (the quorum stays), at most one fault on the producers at a time (one of the
 * two stays up), at most one fault per consumer and two consumers hit at once. `busyMs` estimates
 * how long each fault keeps its target busy beyond its hold (a JVM restart, a takeover); the
 * injector also waits at run time when a target is still busy.
 */
export function buildSchedule(options: ScheduleOptions): PlannedFault[] {
  const random = new Prng(options.seed);
  const session = options.sessionTimeoutMs;
  const busyUntil = new Map<string, number>();
  const faults: PlannedFault[] = [];
  const end = options.durationMs - QUIET_END_MS;
  for (let at = QUIET_START_MS + random.int(0, 1500); at < end; at += random.int(1500, 5000)) {
    for (let attempt = 0; attempt < 6; attempt++) {
      const type = random.weighted(WEIGHTS);
      const plan = planOne(type, random, options, session);
      const free = (group: string) => (busyUntil.get(group) ?? 0) <= at;
      const consumersBusy = options.consumers.filter((name) => !free(name)).length;
      if (!free(plan.group)) continue;
      if (plan.group.startsWith('consumer-') && consumersBusy >= 2) continue;
      if (at + plan.holdMs > end) continue;
      busyUntil.set(plan.group, at + plan.holdMs + plan.busyMs);
      faults.push({ type, atMs: at, holdMs: plan.holdMs, target: plan.target });
      break;
    }
  }
  return faults;
}

function planOne(
  type: FaultType,
  random: Prng,
  options: ScheduleOptions,
  session: number,
): { target: string; group: string; holdMs: number; busyMs: number } {
  const node = `zk-${random.int(1, options.zookeeperNodes)}`;
  const consumer = random.pick(options.consumers);
  switch (type) {
    case 'zk-kill':
      return { target: node, group: 'zk', holdMs: random.int(1000, 6000), busyMs: 8000 };
    case 'zk-kill-leader':
      return { target: 'leader', group: 'zk', holdMs: random.int(1000, 6000), busyMs: 8000 };
    case 'zk-pause':
      // Sometimes past the session timeout: its clients must move to another node.
      return { target: node, group: 'zk', holdMs: random.int(1500, session + 3000), busyMs: 3000 };
    case 'master-kill':
      return { target: 'master', group: 'producers', holdMs: random.int(500, 4000), busyMs: 6000 };
    case 'master-pause':
      // The paused lock holder: past its session timeout, a standby takes over meanwhile.
      return {
        target: 'master',
        group: 'producers',
        holdMs: session + random.int(1000, 3000),
        busyMs: 4000,
      };
    case 'consumer-kill':
      return { target: consumer, group: consumer, holdMs: random.int(500, 4000), busyMs: 3000 };
    case 'consumer-expire':
      return { target: consumer, group: consumer, holdMs: 0, busyMs: session + 3000 };
    case 'consumer-pause':
      return {
        target: consumer,
        group: consumer,
        holdMs: session + random.int(500, 3000),
        busyMs: 3000,
      };
  }
}
