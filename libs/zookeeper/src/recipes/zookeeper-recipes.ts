import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Barrier } from './barrier/barrier.js';
import { DoubleBarrier } from './barrier/double-barrier.js';
import { LeaderElection, LeaderElectionOptions } from './leader-election/leader-election.js';
import { Membership } from './membership/membership.js';
import { Mutex, MutexOptions } from './mutex/mutex.js';
import { ReadWriteLock, ReadWriteLockOptions } from './read-write-lock/read-write-lock.js';
import { Semaphore } from './semaphore/semaphore.js';
import { ServiceRegistry, ServiceRegistryOptions } from './service-registry/service-registry.js';
import { SharedCounter } from './shared-counter/shared-counter.js';

/**
 * The coordination recipes of one connection, injectable per connection
 * (`@InjectRecipes(name?)`). Each method creates a recipe bound to the connection; elections,
 * held locks, memberships and registrations made through it are ended on module destroy, before
 * the connection closes, so their nodes go at once and in order. Usable without Nest too:
 * `new ZookeeperRecipes(connection)`, then `close()`.
 */
export class ZookeeperRecipes {
  private readonly elections = new Set<LeaderElection>();
  private readonly locks = new Set<Mutex | ReadWriteLock>();
  private readonly registries = new Map<string, ServiceRegistry>();
  private membershipInstance?: Membership;

  constructor(readonly connection: ZookeeperConnection) {}

  /** A LeaderElection (Curator LeaderLatch layout) at `path`; call `start()` to run for leader. */
  leaderElection(path: string, options: LeaderElectionOptions): LeaderElection {
    return this.track(this.elections, new LeaderElection(this.connection, path, options));
  }

  /** A Mutex (Curator InterProcessMutex layout) at `path`. */
  mutex(path: string, options?: MutexOptions): Mutex {
    return this.track(this.locks, new Mutex(this.connection, path, options));
  }

  /** A ReadWriteLock (Curator InterProcessReadWriteLock layout) at `path`. */
  readWriteLock(path: string, options?: ReadWriteLockOptions): ReadWriteLock {
    return this.track(this.locks, new ReadWriteLock(this.connection, path, options));
  }

  /** A Semaphore of `maxLeases` at `path` (leases end with their session). */
  semaphore(path: string, maxLeases: number): Semaphore {
    return new Semaphore(this.connection, path, maxLeases);
  }

  barrier(path: string): Barrier {
    return new Barrier(this.connection, path);
  }

  doubleBarrier(path: string, memberCount: number): DoubleBarrier {
    return new DoubleBarrier(this.connection, path, memberCount);
  }

  /** A SharedCounter (Curator SharedCount format) at `path`. */
  sharedCounter(path: string, initialValue = 0): SharedCounter {
    return new SharedCounter(this.connection, path, initialValue);
  }

  /** The connection's group membership (one per connection). */
  get membership(): Membership {
    return (this.membershipInstance ??= new Membership(this.connection));
  }

  /** The service registry under `basePath` (default '/services'), one per base path. */
  serviceRegistry(options: ServiceRegistryOptions = {}): ServiceRegistry {
    const key = options.basePath ?? '/services';
    let registry = this.registries.get(key);
    if (!registry)
      this.registries.set(key, (registry = new ServiceRegistry(this.connection, options)));
    return registry;
  }

  /** Resigns elections, releases held locks, leaves groups and unregisters services. */
  async close(): Promise<void> {
    const work: Array<Promise<unknown>> = [];
    for (const election of this.elections) work.push(election.close());
    for (const lock of this.locks) work.push(releaseAll(lock));
    for (const registry of this.registries.values()) work.push(registry.close());
    if (this.membershipInstance) work.push(this.membershipInstance.leave());
    await Promise.allSettled(work);
    this.elections.clear();
    this.locks.clear();
    this.registries.clear();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private track<S, T extends S>(set: Set<S>, recipe: T): T {
    set.add(recipe);
    return recipe;
  }
}

async function releaseAll(lock: Mutex | ReadWriteLock): Promise<void> {
  const locks = lock instanceof ReadWriteLock ? [lock.readLock, lock.writeLock] : [lock];
  for (const held of locks) while (held.holdCount > 0) await held.release();
}
