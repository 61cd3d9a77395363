import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectZookeeper, NodeSnapshot, TreeCache, ZookeeperConnection } from 'nestjs-zookeeper';
import { Subscription } from 'rxjs';
import {
  ClientRegistration,
  decodeRegistration,
  sequenceOf,
} from '../../shared/src/client-registration.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';

/** A node under /clients and what its client wrote into it. */
export interface RegisteredClient extends Partial<ClientRegistration> {
  node: string;
}

/**
 * The clients registered under /clients, from the library's TreeCache: it re-reads the list after
 * every change, reconnect and session expiry, so joins and leaves are logged as they happen.
 */
@Injectable()
export class ClientsRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Clients');
  private readonly cache: TreeCache;
  private subscription?: Subscription;

  constructor(@InjectZookeeper() zk: ZookeeperConnection) {
    this.cache = new TreeCache(zk, DEMO_PATHS.clients);
  }

  /** In registration order. */
  list(): RegisteredClient[] {
    return [...this.cache.current().values()]
      .filter((node) => node.path !== DEMO_PATHS.clients)
      .map(toClient)
      .sort((a, b) => sequenceOf(a.node) - sequenceOf(b.node));
  }

  onApplicationBootstrap(): void {
    this.subscription = this.cache.events$.subscribe({
      next: (event) => {
        if (event.type === 'initialized' || event.path === DEMO_PATHS.clients) return;
        if (event.type === 'updated') return;
        const client = toClient(event.node);
        const count = this.list().length;
        this.logger.log(
          `${event.type === 'added' ? 'joined' : 'left'}: ${describe(client)} as ${client.node} (${count} registered)`,
        );
      },
      error: (error: unknown) =>
        this.logger.error(`watching ${DEMO_PATHS.clients} failed: ${String(error)}`),
    });
    void this.cache.start().catch(() => undefined); // failures reach events$ above
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.cache.close();
  }
}

function toClient(node: NodeSnapshot): RegisteredClient {
  return { ...decodeRegistration(node.data), node: node.path.slice(DEMO_PATHS.clients.length + 1) };
}

function describe(client: RegisteredClient): string {
  return `${client.name ?? '(unnamed)'} (pid ${client.pid ?? '?'}, port ${client.port ?? '?'})`;
}
