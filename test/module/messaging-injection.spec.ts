import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, take, toArray } from 'rxjs';
import {
  InjectMessaging,
  ZookeeperConnection,
  ZookeeperMessaging,
  ZookeeperModule,
} from 'nestjs-zookeeper';
import {
  silentLogger,
  TestConnections,
  testConnectString,
  testNamespace,
} from '../support/connect.js';

const namespace = testNamespace('messaging-injection');
const observer = new TestConnections(namespace);
let observerZk: ZookeeperConnection;

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
  providers: [Notifier],
})
class AppModule {}

beforeAll(async () => {
  observerZk = await observer.open();
});
afterAll(() => observer.closeAll());

it('injects the messaging of the connection: one broadcast log per topic, in order, closed on shutdown', async () => {
  const app = await (await Test.createTestingModule({ imports: [AppModule] }).compile()).init();
  const { messaging } = app.get(Notifier);
  const log = messaging.broadcast<{ n: number }>('/topics/orders');
  expect(messaging.broadcast('/topics/orders')).toBe(log);
  expect(messaging.queue('/queues/jobs')).toBe(messaging.queue('/queues/jobs'));

  const received = firstValueFrom(
    log.subscribe('audit', { from: 'earliest', autoAck: true }).pipe(take(3), toArray()),
  );
  await log.publish([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect((await received).map((delivery) => delivery.message)).toEqual([
    { n: 1 },
    { n: 2 },
    { n: 3 },
  ]);
  expect((await observerZk.getChildren('/topics/orders/log')).length).toBeGreaterThan(0);

  await app.close();
  expect(await observerZk.getChildren('/topics/orders/clients')).toEqual([]);
});
