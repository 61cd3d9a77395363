import { isConnectedState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { connectionView } from './dashboard-connection.js';
import { discover, Discovered } from './dashboard-discovery.js';
import { ElectionSampler } from './dashboard-elections.js';
import { GroupSampler } from './dashboard-groups.js';
import { LogSampler } from './dashboard-logs.js';
import { QueueSampler } from './dashboard-queues.js';
import { DashboardNodes } from './dashboard-reads.js';
import { ConnectionView, DashboardSnapshot } from './dashboard-snapshot.js';
import { askServers } from './four-letter-words.js';

export interface SamplerSettings {
  title: string;
  readOnly: boolean;
  listLimit: number;
  elections: string[];
  memberships: string[];
  serviceRegistries: string[];
  queues: string[];
  logs: string[];
  storageRoots: string[];
  storageWrites: boolean;
  discoverUnder: string[];
  discoveryIntervalMs: number;
  fourLetterWords: boolean;
}

/**
 * Reads what the dashboard shows, one sample at a time. Bounded: folders are sized by
 * `stat.numChildren` and listed only up to `listLimit` children; node data is read once per
 * node (cached by name; members and instances re-read every 10th sample).
 */
export class DashboardSampler {
  private readonly elections: ElectionSampler;
  private readonly groups: GroupSampler;
  private readonly queues: QueueSampler;
  private readonly logs: LogSampler;
  private readonly discovered: Discovered = {
    elections: new Set<string>(),
    memberships: new Set<string>(),
    queues: new Set<string>(),
    logs: new Set<string>(),
  };
  private lastDiscovery = 0;
  private samples = 0;
  private ensemble: ConnectionView['ensemble'];

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly settings: SamplerSettings,
  ) {
    const nodes = new DashboardNodes(connection);
    this.elections = new ElectionSampler(connection, nodes);
    this.groups = new GroupSampler(connection, nodes, settings.listLimit);
    this.queues = new QueueSampler(connection, nodes, settings.listLimit);
    this.logs = new LogSampler(connection, settings.listLimit);
  }

  get queuePaths(): string[] {
    return unique(this.settings.queues, this.discovered.queues);
  }

  async sample(): Promise<DashboardSnapshot> {
    const errors: DashboardSnapshot['errors'] = [];
    const guard = async <T>(path: string, read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (error) {
        errors.push({ path, message: (error as Error).message });
        return undefined;
      }
    };
    const refresh = this.samples % 10 === 0;
    this.samples += 1;
    const connected = isConnectedState(this.connection.state);
    const now = Date.now();
    if (connected && this.settings.discoverUnder.length > 0) {
      if (now - this.lastDiscovery >= this.settings.discoveryIntervalMs) {
        this.lastDiscovery = now;
        await guard('discovery', () =>
          discover(
            this.connection,
            this.settings.discoverUnder,
            this.settings.listLimit,
            this.discovered,
          ),
        );
      }
    }
    if (this.settings.fourLetterWords && this.samples % 5 === 1) {
      this.ensemble = await askServers(this.connection.connectString);
    }
    const paths = {
      elections: unique(this.settings.elections, this.discovered.elections),
      memberships: unique(this.settings.memberships, this.discovered.memberships),
      queues: this.queuePaths,
      logs: unique(this.settings.logs, this.discovered.logs),
    };
    const read = <T>(list: string[], one: (path: string) => Promise<T>): Promise<T[]> =>
      connected
        ? Promise.all(list.map((path) => guard(path, () => one(path)))).then((views) =>
            views.filter((view): view is Awaited<T> => view !== undefined),
          )
        : Promise.resolve([]);
    const [elections, memberships, services, queues, logs] = await Promise.all([
      read(paths.elections, (path) => this.elections.sample(path)),
      read(paths.memberships, (path) => this.groups.group(path, refresh)),
      read(this.settings.serviceRegistries, (path) => this.groups.registry(path, refresh)),
      read(paths.queues, (path) => this.queues.sample(path)),
      read(paths.logs, (path) => this.logs.sample(path)),
    ]);
    return {
      at: now,
      title: this.settings.title,
      readOnly: this.settings.readOnly,
      connection: connectionView(this.connection, this.ensemble),
      elections,
      memberships,
      services,
      queues,
      logs,
      storageRoots: this.settings.storageRoots,
      storageWrites: this.settings.storageWrites,
      errors,
    };
  }
}

function unique(listed: readonly string[], found: ReadonlySet<string>): string[] {
  return [...new Set([...listed, ...found])];
}
