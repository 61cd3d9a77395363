import { expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import {
  InjectMessaging,
  InjectRecipes,
  RegistrationConflictError,
  ZookeeperConnection,
  ZookeeperMessaging,
  ZookeeperModule,
  ZookeeperRecipes,
} from 'nestjs-zookeeper';
import { silentLogger, testConnectString, useTestConnections } from '../support/connect.js';

const observer = useTestConnections('injected-services');
const { namespace } = observer;

@Injectable()
class Scheduler {
  constructor(@InjectRecipes() readonly recipes: ZookeeperRecipes) {}
}

@Injectable()
class Notifier {
  constructor(@InjectMessaging() readonly messaging: ZookeeperMessaging) {}
}

@Module({
  imports: [
    ZookeeperModule.forRoot({
      connectString: testConnectString(),
      namespace,
      logger: silentLogger,
    }),
  ],
  providers: [Scheduler, Notifier],
})
class AppModule {}

it('injects the recipes of the connection, and ends elections, locks, memberships and registrations on shutdown', async () => {
  const app = await (await Test.createTestingModule({ imports: [AppModule] }).compile()).init();
  const { recipes } = app.get(Scheduler);
  expect(recipes.connection).toBeInstanceOf(ZookeeperConnection);

  const election = recipes.leaderElection('/election', { participantId: 'scheduler-1' });
  await election.start();
  await firstValueFrom(election.isLeader$.pipe(filter(Boolean)));
  const lock = recipes.mutex('/locks/report');
  expect(await lock.acquire()).toBe(true);
  await recipes.membership().join('/workers', { pid: process.pid });
  await recipes.serviceRegistry().register({ name: 'scheduler', address: '127.0.0.1', port: 8080 });
  expect(await observer.zk.getChildren('/election')).toHaveLength(1);
  expect(await observer.zk.getChildren('/locks/report')).toHaveLength(1);
  expect(await observer.zk.getChildren('/workers')).toHaveLength(1);
  expect(await observer.zk.getChildren('/services/scheduler')).toHaveLength(1);

  await app.close();

  expect(await observer.zk.getChildren('/election')).toHaveLength(0);
  expect(await observer.zk.getChildren('/locks/report')).toHaveLength(0);
  expect(await observer.zk.getChildren('/workers')).toHaveLength(0);
  expect(await observer.zk.getChildren('/services/scheduler')).toHaveLength(0);
});

it('options are declared once per path: a request with other options is refused, not ignored', async () => {
  const connection = await observer.open();
  const messaging = new ZookeeperMessaging(connection);
  const recipes = new ZookeeperRecipes(connection);
  const queue = messaging.queue('/queues/declared', { lingerMs: 0 });
  expect(messaging.queue('/queues/declared')).toBe(queue);
  expect(messaging.queue('/queues/declared', { lingerMs: 0 })).toBe(queue);
  expect(() => messaging.queue('/queues/declared', { lingerMs: 50 })).toThrow(
    RegistrationConflictError,
  );
  const log = messaging.broadcast('/topics/declared');
  expect(() => messaging.broadcast('/topics/declared', { commitIntervalMs: 5 })).toThrow(
    /broadcast log '\/topics\/declared' already exists with other options/,
  );
  expect(messaging.broadcast('/topics/declared', {})).toBe(log);
  const registry = recipes.serviceRegistry({ basePath: '/declared-services' });
  expect(recipes.serviceRegistry({ basePath: '/declared-services' })).toBe(registry);
  expect(() =>
    recipes.serviceRegistry({ basePath: '/declared-services', logger: silentLogger }),
  ).toThrow(RegistrationConflictError);
  await Promise.all([messaging.close(), recipes.close()]);
});

it('close() ends what the recipes started while the connection stays open', async () => {
  const connection = await observer.open();
  const recipes = new ZookeeperRecipes(connection);
  const election = recipes.leaderElection('/election2', { participantId: 'p' });
  await election.start();
  const lock = recipes.readWriteLock('/locks/rw');
  expect(await lock.writeLock.acquire()).toBe(true);
  expect(await lock.readLock.acquire()).toBe(true);
  await recipes.membership().join('/workers2', 'me');
  await recipes.semaphore('/leases2', 2).acquire();
  expect(await observer.zk.getChildren('/locks/rw')).toHaveLength(2);
  expect(await observer.zk.getChildren('/leases2/leases')).toHaveLength(1);

  await recipes.close();

  expect(connection.state).toBe('CONNECTED');
  expect(await observer.zk.getChildren('/election2')).toHaveLength(0);
  expect(await observer.zk.getChildren('/leases2/leases')).toHaveLength(0);
  expect(await observer.zk.getChildren('/locks/rw')).toHaveLength(0);
  expect(await observer.zk.getChildren('/workers2')).toHaveLength(0);
});

it('injects the messaging of the connection: one broadcast log per topic, in order, closed on shutdown', async () => {
  const app = await (await Test.createTestingModule({ imports: [AppModule] }).compile()).init();
  const { messaging } = app.get(Notifier);
  const log = messaging.broadcast<{ n: number }>('/topics/orders');
  expect(messaging.broadcast('/topics/orders')).toBe(log);
  expect(messaging.queue('/queues/jobs')).toBe(messaging.queue('/queues/jobs'));

  const received = firstValueFrom(
    log.deliveries('audit', { from: 'earliest', autoAck: true }).pipe(take(3), toArray()),
  );
  await log.publish([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect((await received).map((delivery) => delivery.message)).toEqual([
    { n: 1 },
    { n: 2 },
    { n: 3 },
  ]);
  expect((await observer.zk.getChildren('/topics/orders/log')).length).toBeGreaterThan(0);

  await app.close();
  expect(await observer.zk.getChildren('/topics/orders/clients')).toEqual([]);
});
