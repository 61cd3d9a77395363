import { randomUUID } from 'node:crypto';
import { Logger, LoggerService } from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { joinPath, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { InvalidOptionsError } from '../../errors/library-errors.js';
import { watchChildrenData } from '../../watch/children-data.js';
import { PersistentEphemeralNode } from '../persistent-node/index.js';
import {
  parseInstance,
  parseUriSpec,
  serializeInstance,
  ServiceInstance,
  UriSpec,
} from './service-instance.js';
import { whenNoNode } from '../../internal/no-node.js';

export interface ServiceRegistryOptions {
  /** Where services live: `<basePath>/<name>/<id>`. Default `/services` (Spring Cloud's default). */
  basePath?: string;
  logger?: LoggerService;
}

export interface ServiceRegistration<P = unknown> {
  name: string;
  /** Default: a random UUID (as Curator's builder does). */
  id?: string;
  address: string;
  port?: number | null;
  sslPort?: number | null;
  payload?: P | null;
  /** A template such as `{scheme}://{address}:{port}`, or Curator's parts form. */
  uriSpec?: string | UriSpec | null;
}

export type ServiceUpdate<P> = Partial<Omit<ServiceRegistration<P>, 'name' | 'id'>>;

export interface RegisteredService<P = unknown> {
  /** The instance as last written. */
  readonly instance: ServiceInstance<P>;
  readonly path: string;
  /** Rewrites the instance (registration time and id kept); resolves once written. */
  update(changes: ServiceUpdate<P>): Promise<void>;
  /** Deletes the instance's node; idempotent. */
  unregister(): Promise<void>;
}

export type PickStrategy = 'round-robin' | 'random';

/**
 * A registered instance stays registered while its process runs and can reach ZooKeeper, with
 * the same id and data after a session expiry, and `instances$` converges to the registered
 * instances. Across a partition an instance is missing between its session's expiry and its
 * re-registration, and a listed instance may already be dead.
 *
 * Layout of this service registry, wire-compatible with Curator's ServiceDiscovery
 * (curator-x-discovery) and hence Spring Cloud Zookeeper: each instance is an EPHEMERAL znode
 * `<basePath>/<name>/<id>` holding the JSON of `service-instance.ts`, written like Curator's
 * JsonInstanceSerializer.
 *
 * Guaranteed:
 * - A registered instance stays registered while its process runs and can reach ZooKeeper: after
 *   a session expiry it is registered again (same id and data) as soon as the new session is up;
 *   a node of its dead session still on the server is deleted and replaced, as Curator does, so
 *   watchers see a fresh node. A node deleted by someone else is re-created.
 * - `register` replaces a node left at the same path by an earlier session (a restarted process
 *   with a fixed id), like Curator's registerService.
 * - An instance whose process dies disappears within its session timeout.
 * - `instances$` converges to the registered instances after every change, reconnect and expiry.
 *
 * Not guaranteed (partitions, pauses):
 * - Continuous presence: an instance is missing between its session's expiry and its
 *   re-registration.
 * - A complete history: `instances$` may coalesce quick successions of changes.
 * - A live listed instance: one may already be gone (its process died and its session has not
 *   timed out yet), so callers must tolerate failed calls.
 * - Listing every node: nodes that do not parse as instances are left out (with a warning).
 */
export class ServiceRegistry {
  readonly basePath: string;
  private readonly logger: LoggerService;
  private readonly registered = new Set<RegisteredService<unknown>>();
  private readonly cursors = new Map<string, number>();

  constructor(
    private readonly connection: ZookeeperConnection,
    options: ServiceRegistryOptions = {},
  ) {
    this.basePath = options.basePath ?? '/services';
    validatePath(this.basePath, 'ServiceRegistry');
    this.logger = options.logger ?? new Logger('ServiceRegistry');
  }

  async register<P = unknown>(registration: ServiceRegistration<P>): Promise<RegisteredService<P>> {
    const id = registration.id ?? randomUUID();
    const path = this.instancePath(registration.name, id);
    let current: ServiceRegistration<P> = { ...registration, id };
    let instance = toInstance(current, id, Date.now());
    const node = new PersistentEphemeralNode(this.connection, path, serializeInstance(instance), {
      replaceExisting: true,
      logger: this.logger,
    });
    await node.start();
    const registered: RegisteredService<P> = {
      get instance() {
        return instance;
      },
      path,
      update: async (changes) => {
        const merged = { ...current, ...changes };
        const next = toInstance(merged, id, instance.registrationTimeUTC);
        await node.update(serializeInstance(next));
        current = merged;
        instance = next;
      },
      unregister: async () => {
        this.registered.delete(registered);
        await node.close();
      },
    };
    this.registered.add(registered);
    return registered;
  }

  /** The instances of `name` sorted by id, re-emitted on every observed change. */
  instances$<P = unknown>(name: string): Observable<ServiceInstance<P>[]> {
    return watchChildrenData(this.connection, this.servicePath(name)).pipe(
      map((children) =>
        sortById([...children].flatMap(([id, node]) => this.parse<P>(name, id, node.data) ?? [])),
      ),
    );
  }

  /** The instances of `name` as read now, sorted by id. */
  async instances<P = unknown>(name: string): Promise<ServiceInstance<P>[]> {
    const ids = await this.connection.getChildren(this.servicePath(name)).catch(whenNoNode([]));
    const read = await Promise.all(ids.map((id) => this.instance<P>(name, id)));
    return sortById(read.flatMap((instance) => instance ?? []));
  }

  /** One instance, or undefined if it is not registered (or does not parse). */
  async instance<P = unknown>(name: string, id: string): Promise<ServiceInstance<P> | undefined> {
    const read = await this.connection
      .get(this.instancePath(name, id))
      .catch(whenNoNode(undefined));
    return read && this.parse<P>(name, id, read.data);
  }

  /** The service names under the base path (like Curator, including services without instances). */
  async names(): Promise<string[]> {
    return (await this.connection.getChildren(this.basePath).catch(whenNoNode([]))).sort();
  }

  /**
   * One instance of `name` (instances with `enabled: false` left out), or undefined if there is
   * none: `round-robin` cycles through the instances in id order, one counter per service and
   * registry, like Curator's RoundRobinStrategy; `random` picks uniformly.
   */
  async pick<P = unknown>(
    name: string,
    strategy: PickStrategy = 'round-robin',
  ): Promise<ServiceInstance<P> | undefined> {
    const candidates = (await this.instances<P>(name)).filter((i) => i.enabled !== false);
    if (candidates.length === 0) return undefined;
    if (strategy === 'random') return candidates[Math.floor(Math.random() * candidates.length)];
    const cursor = this.cursors.get(name) ?? 0;
    this.cursors.set(name, cursor + 1);
    return candidates[cursor % candidates.length];
  }

  /** Unregisters every instance registered through this registry. */
  async close(): Promise<void> {
    await Promise.all([...this.registered].map((registered) => registered.unregister()));
  }

  private servicePath(name: string): string {
    checkName(name, 'service name');
    return joinPath(this.basePath, name);
  }

  private instancePath(name: string, id: string): string {
    checkName(id, 'instance id');
    return joinPath(this.servicePath(name), id);
  }

  private parse<P>(name: string, id: string, data: Buffer): ServiceInstance<P> | undefined {
    try {
      return parseInstance<P>(data);
    } catch (error) {
      this.logger.warn(`${this.instancePath(name, id)}: ${(error as Error).message}`);
      return undefined;
    }
  }
}

function toInstance<P>(
  registration: ServiceRegistration<P>,
  id: string,
  registrationTimeUTC: number,
): ServiceInstance<P> {
  checkName(registration.name, 'service name');
  if (typeof registration.address !== 'string' || registration.address === '')
    throw new InvalidOptionsError('a service instance needs an address');
  for (const port of [registration.port, registration.sslPort]) {
    if (port != null && !(Number.isInteger(port) && port >= 0 && port <= 65535))
      throw new InvalidOptionsError(`invalid port ${String(port)}`);
  }
  const uriSpec = registration.uriSpec;
  return {
    name: registration.name,
    id,
    address: registration.address,
    port: registration.port ?? null,
    sslPort: registration.sslPort ?? null,
    payload: registration.payload ?? null,
    registrationTimeUTC,
    serviceType: 'DYNAMIC',
    uriSpec: typeof uriSpec === 'string' ? parseUriSpec(uriSpec) : (uriSpec ?? null),
  };
}

function checkName(name: unknown, what: string): void {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name.includes('/') ||
    name === '.' ||
    name === '..'
  )
    throw new InvalidOptionsError(
      `invalid ${what} ${JSON.stringify(name)}: a non-empty znode name`,
    );
}

function sortById<T extends { id: string }>(instances: T[]): T[] {
  return instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
