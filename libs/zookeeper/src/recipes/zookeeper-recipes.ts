import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Registrations } from '../internal/registrations.js';
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
  private readonly semaphores = new Set<Semaphore>();
  private readonly registries = new Registrations<ServiceRegistry>('service registry');
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

  /** A Semaphore of `maxLeases` at `path`; leases still held are released on module destroy. */
  semaphore(path: string, maxLeases: number): Semaphore {
    return this.track(this.semaphores, new Semaphore(this.connection, path, maxLeases));
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
  membership(): Membership {
    return (this.membershipInstance ??= new Membership(this.connection));
  }

  /**
   * The service registry under `basePath` (default '/services'), one per base path, created with
   * the options of the first request; different options later throw a RegistrationConflictError.
   */
  serviceRegistry(options: ServiceRegistryOptions = {}): ServiceRegistry {
    const { basePath = '/services', ...rest } = options;
    // Naming the base path alone asks for the registry; anything else declares options.
    const declared = Object.keys(rest).length > 0 ? rest : undefined;
    return this.registries.get(basePath, declared, () => {
      return new ServiceRegistry(this.connection, options);
    });
  }

  /** Resigns elections, releases held locks and leases, leaves groups and unregisters services. */
  async close(): Promise<void> {
    const work: Array<Promise<unknown>> = [];
    for (const election of this.elections) work.push(election.close());
    for (const lock of this.locks) work.push(releaseAll(lock));
    for (const semaphore of this.semaphores) work.push(semaphore.releaseAll());
    for (const registry of this.registries.drain()) work.push(registry.close());
    if (this.membershipInstance) work.push(this.membershipInstance.leave());
    await Promise.allSettled(work);
    this.elections.clear();
    this.locks.clear();
    this.semaphores.clear();
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
