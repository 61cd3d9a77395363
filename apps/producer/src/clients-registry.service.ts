import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectRecipes, ZookeeperRecipes } from 'nestjs-zookeeper';
import { Subscription } from 'rxjs';
import { RegisteredClient, toRegisteredClient } from '../../shared/src/client-registration.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';

/**
 * The members of the group /clients, from the library's Membership recipe: `members$` converges
 * to the group after every change, reconnect and session expiry, so joins and leaves are logged as
 * they happen (changes between two reads may be coalesced).
 */
@Injectable()
export class ClientsRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Clients');
  private clients: RegisteredClient[] = [];
  private subscription?: Subscription;

  constructor(@InjectRecipes() private readonly recipes: ZookeeperRecipes) {}

  /** In join order. */
  list(): RegisteredClient[] {
    return [...this.clients];
  }

  onApplicationBootstrap(): void {
    this.subscription = this.recipes
      .membership()
      .members$(DEMO_PATHS.clients)
      .subscribe({
        next: (members) => this.update(members.map(toRegisteredClient)),
        error: (error: unknown) =>
          this.logger.error(`watching ${DEMO_PATHS.clients} failed: ${String(error)}`),
      });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private update(clients: RegisteredClient[]): void {
    const before = new Map(this.clients.map((client) => [client.node, client]));
    const now = new Set(clients.map((client) => client.node));
    this.clients = clients;
    const count = clients.length;
    for (const client of clients) {
      if (!before.has(client.node))
        this.logger.log(`joined: ${describe(client)} as ${client.node} (${count} registered)`);
    }
    for (const [node, client] of before) {
      if (!now.has(node))
        this.logger.log(`left: ${describe(client)} as ${node} (${count} registered)`);
    }
  }
}

function describe(client: RegisteredClient): string {
  return `${client.name ?? '(unnamed)'} (pid ${client.pid ?? '?'}, port ${client.port ?? '?'})`;
}
