import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ZookeeperTestingCluster,
  ZookeeperTestingClusterNode,
} from '../../libs/zookeeper/src/testing/index.js';
import type { AppProcess } from '../demo/app-process.js';
import type { DemoApps } from '../demo/demo-apps.js';
import { monoMs } from './clock.js';
import type { FaultRecord } from './observations.js';
import type { PlannedFault } from './schedule.js';

export interface InjectorOptions {
  cluster: ZookeeperTestingCluster;
  apps: DemoApps;
  producers: readonly string[];
  /** Starts an app again under its name (and records the new process). */
  restart: (kind: 'producer' | 'consumer', name: string) => AppProcess;
  /** Resolves with the next line of app `name` matching `pattern`, undefined after `timeoutMs`. */
  nextLine: (name: string, pattern: RegExp, timeoutMs: number) => Promise<string | undefined>;
  /** The master as the producers' logs tell, when known. */
  master: () => string | undefined;
  /** Ms on the monotonic clock the load started at: faults' atMs are relative to it. */
  startedAtMs: number;
  /** One line per fault, as it happens. */
  report: (line: string) => void;
}

/** How long a fault waits for its target to be free (an earlier fault still healing). */
const BUSY_WAIT_MS = 30_000;

/**
 * Injects the planned faults at their times, overlapping as planned, each healed after its hold:
 * a killed ZooKeeper node or app is started again, a paused process resumed. Targets named by role
 * (`leader`, `master`) are resolved when the fault is due. A group (the ZooKeeper nodes, the
 * producers, each consumer) takes one fault at a time: a fault due while its group still heals
 * waits, and is recorded at the time it was injected.
 */
export class FaultInjector {
  readonly faults: FaultRecord[] = [];
  /** Faults in progress, for the progress line and the throughput split. */
  active = 0;
  private readonly busy = new Map<string, Promise<void>>();

  constructor(private readonly options: InjectorOptions) {}

  /** Runs the whole schedule; resolves once every fault has been injected and healed. */
  async run(schedule: readonly PlannedFault[], signal: AbortSignal): Promise<void> {
    const tasks = schedule.map(async (planned) => {
      await sleep(Math.max(0, this.options.startedAtMs + planned.atMs - monoMs()));
      if (signal.aborted) return;
      const group = groupOf(planned);
      const deadline = monoMs() + BUSY_WAIT_MS;
      while (this.busy.has(group) && monoMs() < deadline) await this.busy.get(group);
      if (this.busy.has(group) || signal.aborted) return;
      const task = this.inject(planned).finally(() => this.busy.delete(group));
      this.busy.set(group, task);
      await task;
    });
    await Promise.all(tasks);
  }

  private async inject(planned: PlannedFault): Promise<void> {
    const atMs = monoMs() - this.options.startedAtMs;
    const record: FaultRecord = { type: planned.type, target: planned.target, atMs };
    this.faults.push(record);
    this.active++;
    try {
      await this.perform(planned, record);
      record.healedAfterMs = monoMs() - this.options.startedAtMs - atMs;
      this.options.report(
        `↻ ${record.type} ${record.target} healed after ${(record.healedAfterMs / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      record.failed = true;
      record.note = error instanceof Error ? error.message : String(error);
      this.options.report(`✘ ${record.type} ${record.target}: ${record.note}`);
    } finally {
      this.active--;
    }
  }

  private async perform(planned: PlannedFault, record: FaultRecord): Promise<void> {
    const { apps } = this.options;
    const announce = (what: string) =>
      this.options.report(`⚡ ${(record.atMs / 1000).toFixed(1)} s ${what}`);
    switch (planned.type) {
      case 'zk-kill':
      case 'zk-kill-leader': {
        const node = await this.zookeeperNode(planned, record);
        announce(`SIGKILL ZooKeeper ${record.target}; restart in ${secs(planned.holdMs)}`);
        await node.kill();
        await sleep(planned.holdMs);
        await node.start();
        await node.waitUntilServing(60_000);
        return;
      }
      case 'zk-pause': {
        const node = await this.zookeeperNode(planned, record);
        announce(`SIGSTOP ZooKeeper ${record.target} for ${secs(planned.holdMs)} (a partition)`);
        node.pause();
        await sleep(planned.holdMs);
        node.resume();
        await node.waitUntilServing(60_000);
        return;
      }
      case 'master-kill': {
        const master = await this.master(record);
        announce(`SIGKILL the master ${record.target}; restart in ${secs(planned.holdMs)}`);
        await apps.kill(master);
        await sleep(planned.holdMs);
        await this.options.restart('producer', master).url;
        return;
      }
      case 'master-pause': {
        const master = await this.master(record);
        const app = apps.get(master)!;
        announce(`SIGSTOP the master ${record.target} for ${secs(planned.holdMs)}`);
        app.signal('SIGSTOP');
        await sleep(planned.holdMs);
        app.signal('SIGCONT');
        return;
      }
      case 'consumer-kill': {
        announce(`SIGKILL ${record.target}; restart in ${secs(planned.holdMs)}`);
        await apps.kill(planned.target);
        await sleep(planned.holdMs);
        await this.options.restart('consumer', planned.target).url;
        return;
      }
      case 'consumer-expire': {
        announce(`expire the session of ${record.target}`);
        const outcome = this.options.nextLine(
          planned.target,
          /\[Chaos\] (session expired|could not)/,
          25_000,
        );
        apps.get(planned.target)?.send({ type: 'expire-session' });
        // The app reports the expiry (or why not): not a failure of the run if it could not.
        const line = await outcome;
        if (!line) record.note = 'no expiry reported by the app';
        else if (line.includes('could not')) record.note = line.replace(/^.*\[Chaos\] /, '');
        return;
      }
      case 'consumer-pause': {
        const app = apps.get(planned.target)!;
        announce(`SIGSTOP ${record.target} for ${secs(planned.holdMs)}`);
        app.signal('SIGSTOP');
        await sleep(planned.holdMs);
        app.signal('SIGCONT');
        return;
      }
    }
  }

  private async zookeeperNode(
    planned: PlannedFault,
    record: FaultRecord,
  ): Promise<ZookeeperTestingClusterNode> {
    const { cluster } = this.options;
    const leader = await cluster.leader();
    const node =
      planned.target === 'leader'
        ? (leader ?? cluster.nodes[0]!)
        : cluster.node(Number(planned.target.slice(3)));
    record.target = `zk-${node.id}${node === leader ? ' (leader)' : ''}`;
    if (planned.target === 'leader' && !leader) record.note = 'no leader found: hit zk-1';
    return node;
  }

  /**
   * The master as the producers' logs tell, or as they report it over HTTP, or else the first
   * running producer.
   */
  private async master(record: FaultRecord): Promise<string> {
    const { apps, producers } = this.options;
    const master = this.options.master() ?? (await apps.producerStatus())?.master;
    if (master && apps.get(master)?.running) {
      record.target = `${master} (master)`;
      return master;
    }
    const fallback = producers.find((name) => apps.get(name)?.running) ?? producers[0]!;
    record.target = fallback;
    record.note = 'master unknown: hit a producer';
    return fallback;
  }
}

function groupOf(planned: PlannedFault): string {
  if (planned.type.startsWith('zk-')) return 'zk';
  if (planned.type.startsWith('master-')) return 'producers';
  return planned.target;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
