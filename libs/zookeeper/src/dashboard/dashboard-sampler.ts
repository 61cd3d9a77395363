import { isConnectedState } from '../connection/connection-state.enum.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NoNodeError } from '../errors/zookeeper-errors.js';
import { messageOffset, parseOffset } from '../messaging/broadcast/offsets.js';
import { parseBatchEntries } from '../messaging/shared/entry-names.js';
import {
  Candidate,
  ConnectionView,
  DashboardSnapshot,
  ElectionView,
  GroupView,
  LogView,
  MemberView,
  QueueView,
  RegistryView,
  SubscriberView,
  Takeover,
} from './dashboard-snapshot.js';
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
  discoverUnder: string[];
  discoveryIntervalMs: number;
  fourLetterWords: boolean;
}

interface NodeInfo {
  data: unknown;
  since: number;
  session: string;
}

interface QueueCounters {
  at: number;
  /** Item names seen in the last listing with their message counts. */
  names?: Map<string, number>;
  created: number;
  deleted: number;
}

const HISTORY_KEPT = 50;
/** Nodes read at once by one sample (bounds the requests a sample puts in flight). */
const READS_AT_ONCE = 16;

/** Turns node data into what the page shows: JSON when it parses, else text (or a byte count). */
export function decodeData(data: Buffer, max = 4096): unknown {
  if (data.length === 0) return null;
  const text = data.subarray(0, max).toString('utf8');
  if (text.includes('\uFFFD')) return `<${data.length} bytes>`;
  if (data.length <= max) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return `${text}… (${data.length} bytes)`;
}

function whenNoNode<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof NoNodeError) return value;
    throw error;
  };
}

async function inBatches<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE) {
    results.push(...(await Promise.all(items.slice(i, i + READS_AT_ONCE).map(read))));
  }
  return results;
}

/**
 * Reads what the dashboard shows, one sample at a time. Bounded: folders are sized by
 * `stat.numChildren` and listed only up to `listLimit` children; node data is read once per
 * node (cached by name; members and instances re-read every 10th sample).
 */
export class DashboardSampler {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly leaders = new Map<string, Candidate>();
  private readonly takeovers = new Map<string, Takeover[]>();
  private readonly queueCounters = new Map<string, QueueCounters>();
  private readonly logCounters = new Map<string, { at: number; lastSequence: number }>();
  private readonly logListings = new Map<string, number>();
  private readonly discovered = {
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
  ) {}

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
        await guard('discovery', () => this.discover());
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
      read(paths.elections, (path) => this.election(path)),
      read(paths.memberships, (path) => this.group(path, refresh)),
      read(this.settings.serviceRegistries, (path) => this.registry(path, refresh)),
      read(paths.queues, (path) => this.queue(path)),
      read(paths.logs, (path) => this.log(path)),
    ]);
    return {
      at: now,
      title: this.settings.title,
      readOnly: this.settings.readOnly,
      connection: this.connectionView(),
      elections,
      memberships,
      services,
      queues,
      logs,
      storageRoots: this.settings.storageRoots,
      errors,
    };
  }

  private connectionView(): ConnectionView {
    const c = this.connection;
    const view: ConnectionView = {
      name: c.name,
      state: c.state,
      driver: c.driver,
      connectString: c.connectString,
      namespace: c.namespace || '/',
    };
    try {
      const session = c.session;
      view.sessionId = session.id;
      view.negotiatedTimeoutMs = session.timeoutMs;
    } catch {
      // no session yet
    }
    if (this.ensemble) {
      view.ensemble = this.ensemble;
      view.leader = this.ensemble.find((server) => server.mode === 'leader')?.server;
    }
    return view;
  }

  /** Reads a node once (data, creation time, owner session), then from the cache. */
  private async node(path: string, reread = false): Promise<NodeInfo | undefined> {
    const cached = this.nodes.get(path);
    if (cached && !reread) return cached;
    try {
      const { data, stat } = await this.connection.get(path);
      const info = {
        data: decodeData(data),
        since: stat.ctime.getTime(),
        session: stat.ephemeralOwner,
      };
      this.nodes.set(path, info);
      return info;
    } catch (error) {
      if (error instanceof NoNodeError) {
        this.nodes.delete(path);
        return undefined;
      }
      throw error;
    }
  }

  private forgetUnder(parent: string, keep: readonly string[]): void {
    const prefix = `${parent}/`;
    const kept = new Set(keep.map((name) => prefix + name));
    for (const path of this.nodes.keys()) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/') && !kept.has(path)) {
        this.nodes.delete(path);
      }
    }
  }

  private async election(path: string): Promise<ElectionView> {
    const names = (await this.connection.getChildren(path).catch(whenNoNode<string[]>([])))
      .filter((name) => /latch-\d{10}$/.test(name))
      .sort((a, b) => sequence(a) - sequence(b));
    this.forgetUnder(path, names);
    const candidates = (
      await inBatches(names, async (name) => {
        const info = await this.node(joinPath(path, name));
        if (!info) return undefined;
        const participantId =
          typeof info.data === 'string' ? info.data : JSON.stringify(info.data ?? '');
        return { node: name, participantId, since: info.since };
      })
    ).filter((candidate): candidate is Candidate => candidate !== undefined);
    const leader = candidates[0];
    const previous = this.leaders.get(path);
    if (previous && previous.node !== leader?.node) {
      const history = this.takeovers.get(path) ?? [];
      const to = Date.now();
      history.unshift({
        participantId: previous.participantId,
        from: previous.since,
        to,
        durationMs: to - previous.since,
      });
      this.takeovers.set(path, history.slice(0, HISTORY_KEPT));
    }
    if (leader) this.leaders.set(path, leader);
    else this.leaders.delete(path);
    return { path, leader, candidates, history: this.takeovers.get(path) ?? [] };
  }

  private async members(path: string, refresh: boolean): Promise<MemberView[] | undefined> {
    const stat = await this.connection.exists(path);
    if (!stat || stat.numChildren > this.settings.listLimit) return undefined;
    const names = (await this.connection.getChildren(path).catch(whenNoNode<string[]>([]))).sort(
      (a, b) => sequence(a) - sequence(b),
    );
    this.forgetUnder(path, names);
    const members = await inBatches(names, async (name) => {
      const info = await this.node(joinPath(path, name), refresh);
      return info && { node: name, data: info.data, since: info.since };
    });
    return members.filter((member): member is MemberView => member !== undefined);
  }

  private async group(path: string, refresh: boolean): Promise<GroupView> {
    const stat = await this.connection.exists(path);
    const members = await this.members(path, refresh);
    return { path, count: members?.length ?? stat?.numChildren ?? 0, members };
  }

  private async registry(basePath: string, refresh: boolean): Promise<RegistryView> {
    const names = (await this.connection.getChildren(basePath).catch(whenNoNode<string[]>([])))
      .sort()
      .slice(0, this.settings.listLimit);
    const services = await Promise.all(
      names.map(async (name) => ({
        name,
        instances: (await this.members(joinPath(basePath, name), refresh)) ?? [],
      })),
    );
    return { basePath, services };
  }

  private async queue(path: string): Promise<QueueView> {
    const itemsPath = joinPath(path, 'items');
    const [items, locks, dead] = await Promise.all([
      this.connection.exists(itemsPath),
      this.connection.exists(joinPath(path, 'locks')),
      this.connection.exists(joinPath(path, 'dead')),
    ]);
    const now = Date.now();
    const count = items?.numChildren ?? 0;
    // Every create and delete of a child bumps cversion: creates = (cversion + children) / 2.
    const created = ((items?.cversion ?? 0) + count) / 2;
    const deleted = ((items?.cversion ?? 0) - count) / 2;
    let names: Map<string, number> | undefined;
    if (items && count <= this.settings.listLimit) {
      const listed = await this.connection.getChildren(itemsPath).catch(whenNoNode<string[]>([]));
      names = new Map(parseBatchEntries(listed).map((entry) => [entry.name, entry.count]));
    }
    const before = this.queueCounters.get(path);
    let publishedPerSecond = 0;
    let finishedPerSecond = 0;
    if (before) {
      const seconds = Math.max((now - before.at) / 1000, 0.001);
      if (names && before.names) {
        let published = 0;
        let finished = 0;
        for (const [name, n] of names) if (!before.names.has(name)) published += n;
        for (const [name, n] of before.names) if (!names.has(name)) finished += n;
        publishedPerSecond = published / seconds;
        finishedPerSecond = finished / seconds;
      } else {
        publishedPerSecond = Math.max(0, created - before.created) / seconds;
        finishedPerSecond = Math.max(0, deleted - before.deleted) / seconds;
      }
    }
    this.queueCounters.set(path, { at: now, names, created, deleted });
    let inFlight: QueueView['inFlight'] = [];
    if (locks && locks.numChildren > 0 && locks.numChildren <= this.settings.listLimit) {
      const locksPath = joinPath(path, 'locks');
      const held = await this.connection.getChildren(locksPath).catch(whenNoNode<string[]>([]));
      this.forgetUnder(locksPath, held);
      inFlight = (
        await inBatches(held.sort(), async (item) => {
          const info = await this.node(joinPath(locksPath, item));
          return info && { item, session: info.session, since: info.since };
        })
      ).filter((entry): entry is QueueView['inFlight'][number] => entry !== undefined);
    }
    return {
      path,
      items: count,
      messages: names ? [...names.values()].reduce((sum, n) => sum + n, 0) : undefined,
      inFlight,
      deadLetters: dead?.numChildren ?? 0,
      publishedPerSecond: round(publishedPerSecond),
      finishedPerSecond: round(finishedPerSecond),
    };
  }

  private async log(path: string): Promise<LogView> {
    const logPath = joinPath(path, 'log');
    const [stat, clients, offsetNames] = await Promise.all([
      this.connection.exists(logPath),
      this.connection.exists(joinPath(path, 'clients')),
      this.connection.getChildren(joinPath(path, 'offsets')).catch(whenNoNode<string[]>([])),
    ]);
    const now = Date.now();
    const entriesCount = stat?.numChildren ?? 0;
    const listings = (this.logListings.get(path) ?? 0) + 1;
    this.logListings.set(path, listings);
    const listed =
      stat && (entriesCount <= this.settings.listLimit || listings % 10 === 1)
        ? parseBatchEntries(
            await this.connection.getChildren(logPath).catch(whenNoNode<string[]>([])),
          )
        : undefined;
    const offsetsPath = joinPath(path, 'offsets');
    const subscribers: SubscriberView[] = (
      await inBatches(offsetNames.slice(0, this.settings.listLimit).sort(), async (id) => {
        const path = joinPath(offsetsPath, id);
        const data = await this.connection
          .get(path)
          .then(({ data }) => data)
          .catch(whenNoNode<Buffer | undefined>(undefined));
        try {
          return data ? { id, committedOffset: parseOffset(data, path) } : undefined;
        } catch {
          return undefined; // corrupt offsets are the log's own events to report
        }
      })
    ).filter((subscriber): subscriber is SubscriberView => subscriber !== undefined);
    const view: LogView = {
      path,
      entries: listed?.length ?? entriesCount,
      messagesPerSecond: 0,
      clients: clients?.numChildren ?? 0,
      subscribers,
    };
    if (listed) {
      const first = listed[0];
      const last = listed.at(-1);
      view.messages = listed.reduce((sum, entry) => sum + entry.count, 0);
      view.firstOffset = first && messageOffset(first.sequence, 0);
      view.lastOffset = last && messageOffset(last.sequence, last.count - 1);
      const before = this.logCounters.get(path);
      const lastSequence = last?.sequence ?? before?.lastSequence ?? -1;
      if (before) {
        const fresh = listed
          .filter((entry) => entry.sequence > before.lastSequence)
          .reduce((sum, entry) => sum + entry.count, 0);
        view.messagesPerSecond = round(fresh / Math.max((now - before.at) / 1000, 0.001));
      }
      this.logCounters.set(path, { at: now, lastSequence });
      for (const subscriber of subscribers) {
        subscriber.lag = listed.reduce((sum, entry) => {
          const first = messageOffset(entry.sequence, 0);
          const after = first + entry.count - 1 - subscriber.committedOffset;
          return sum + Math.max(0, Math.min(entry.count, after));
        }, 0);
      }
    }
    return view;
  }

  /** Finds queues (items/, dead/), logs (log/, offsets/), elections and groups under the roots. */
  private async discover(): Promise<void> {
    const visit = async (path: string, depth: number): Promise<void> => {
      const stat = await this.connection.exists(path);
      if (!stat || stat.numChildren === 0 || stat.numChildren > this.settings.listLimit) return;
      const children = await this.connection.getChildren(path).catch(whenNoNode<string[]>([]));
      const has = (name: string) => children.includes(name);
      if (has('items') && has('dead') && has('locks')) return void this.discovered.queues.add(path);
      if (has('log') && has('offsets')) return void this.discovered.logs.add(path);
      if (children.some((name) => /latch-\d{10}$/.test(name))) {
        return void this.discovered.elections.add(path);
      }
      if (children.some((name) => /member-\d{10}$/.test(name))) {
        return void this.discovered.memberships.add(path);
      }
      if (depth === 0) return;
      await inBatches(children, (name) => visit(joinPath(path, name), depth - 1));
    };
    for (const root of this.settings.discoverUnder) await visit(root, 3);
  }
}

function sequence(name: string): number {
  return Number(/(\d{10})$/.exec(name)?.[1] ?? 0);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function unique(listed: readonly string[], found: ReadonlySet<string>): string[] {
  return [...new Set([...listed, ...found])];
}
