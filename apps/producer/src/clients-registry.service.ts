import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  InjectZookeeper,
  isConnectedState,
  NoNodeError,
  WatchEvent,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { concatMap, filter, merge, Subject, Subscription } from 'rxjs';
import {
  ClientRegistration,
  decodeRegistration,
  sequenceOf,
} from '../../shared/src/client-registration.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';

const CLIENTS_PATH = DEMO_PATHS.clients;

const RETRY_DELAY_MS = 1000;

/** A node under /clients and what its client wrote into it. */
export interface RegisteredClient extends Partial<ClientRegistration> {
  node: string;
}

/**
 * The clients currently registered under /clients, kept current by a one-shot children watch
 * that is re-armed after every event. Every new session re-reads the list, because the old
 * session's watch is gone and clients may have come and gone in between.
 */
@Injectable()
export class ClientsRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Clients');
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly refreshes = new Subject<void>();
  // One armed watch at most: each extra one would fire too and double every later re-read.
  private watchArmed = false;
  private subscription: Subscription | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(@InjectZookeeper() private readonly zk: ZookeeperConnection) {}

  /** In registration order. */
  list(): RegisteredClient[] {
    return [...this.clients.values()].sort((a, b) => sequenceOf(a.node) - sequenceOf(b.node));
  }

  onApplicationBootstrap(): void {
    this.subscription = merge(this.zk.state$.pipe(filter(isConnectedState)), this.refreshes)
      // Reads one after another, so joins and leaves are applied in the order they were seen.
      .pipe(concatMap(() => this.refresh()))
      .subscribe();
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    clearTimeout(this.retryTimer);
  }

  private async refresh(): Promise<void> {
    if (!isConnectedState(this.zk.state)) return;
    const watch = this.watchArmed ? undefined : (event: WatchEvent) => this.onWatchEvent(event);
    this.watchArmed = true;
    let children: string[];
    try {
      await this.zk.mkdirp(CLIENTS_PATH);
      children = await this.zk.getChildren(CLIENTS_PATH, { watch });
    } catch (error) {
      if (watch) this.watchArmed = false;
      return this.retryLater(error);
    }
    try {
      await this.apply(children);
    } catch (error) {
      this.retryLater(error);
    }
  }

  /** Children changed, or (SESSION_LOST) the watch died with its session: read and re-arm. */
  private onWatchEvent(_event: WatchEvent): void {
    this.watchArmed = false;
    this.refreshes.next();
  }

  private async apply(children: string[]): Promise<void> {
    const present = new Set(children);
    for (const [node, client] of this.clients) {
      if (present.has(node)) continue;
      this.clients.delete(node);
      this.logger.log(`left: ${describe(client)} (${this.countLine()})`);
    }
    for (const node of children) {
      if (this.clients.has(node)) continue;
      const client = await this.read(node);
      if (!client) continue;
      this.clients.set(node, client);
      this.logger.log(`joined: ${describe(client)} as ${node} (${this.countLine()})`);
    }
  }

  /** Undefined when the client left before its data could be read: it never counts as joined. */
  private async read(node: string): Promise<RegisteredClient | undefined> {
    try {
      const { data } = await this.zk.get(`${CLIENTS_PATH}/${node}`);
      return { ...decodeRegistration(data), node };
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  private retryLater(error: unknown): void {
    this.logger.warn(
      `could not read ${CLIENTS_PATH} (${(error as Error).message}); retrying in ${RETRY_DELAY_MS} ms`,
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.refreshes.next(), RETRY_DELAY_MS);
  }

  private countLine(): string {
    return `${this.clients.size} client${this.clients.size === 1 ? '' : 's'} registered`;
  }
}

function describe(client: RegisteredClient): string {
  return `${client.name ?? '(unnamed)'} (pid ${client.pid ?? '?'}, port ${client.port ?? '?'})`;
}
