import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import {
  getMessagingToken,
  getRecipesToken,
  getZookeeperToken,
  LeaderElection,
  ZookeeperConnection,
  ZookeeperMessaging,
  ZookeeperModule,
  ZookeeperRecipes,
} from 'nestjs-zookeeper';
import { ZookeeperDashboardModule, ZookeeperDashboardOptions } from 'nestjs-zookeeper/dashboard';
import { silentLogger, testConnectString } from '../support/connect.js';

export const PATHS = {
  election: '/election/master',
  group: '/groups/workers',
  registry: '/services',
  queue: '/queues/jobs',
  log: '/topics/orders',
  storage: '/config',
};

export interface DashboardFixture {
  app: INestApplication;
  url: string;
  zk: ZookeeperConnection;
  recipes: ZookeeperRecipes;
  messaging: ZookeeperMessaging;
  election: LeaderElection;
  close(): Promise<void>;
}

type Extras = Parameters<typeof ZookeeperDashboardModule.forRoot>[0];

/**
 * A Nest app on a free port with the dashboard at /zk, showing an election (leader 'alpha',
 * candidate 'beta'), a group of two members, a registered service, a work queue with two
 * waiting messages and one dead letter, a broadcast log with one subscriber, and /config.
 */
export async function startDashboardApp(
  namespace: string,
  options: Partial<ZookeeperDashboardOptions & Extras> = {},
): Promise<DashboardFixture> {
  @Module({
    imports: [
      ZookeeperModule.forRoot({
        connectString: testConnectString(),
        namespace,
        logger: silentLogger,
      }),
      ZookeeperDashboardModule.forRoot({
        path: '/zk',
        title: 'Test ensemble',
        sampleIntervalMs: 200,
        elections: [PATHS.election],
        memberships: [PATHS.group],
        serviceRegistries: [PATHS.registry],
        queues: [PATHS.queue],
        logs: [PATHS.log],
        storageRoots: [PATHS.storage],
        fourLetterWords: true,
        ...options,
      }),
    ],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/zk`;
  const zk = app.get<ZookeeperConnection>(getZookeeperToken());
  const recipes = app.get<ZookeeperRecipes>(getRecipesToken());
  const messaging = app.get<ZookeeperMessaging>(getMessagingToken());

  const election = recipes.leaderElection(PATHS.election, { participantId: 'alpha' });
  await election.start();
  await firstValueFrom(election.isLeader$.pipe(filter(Boolean)));
  await recipes.leaderElection(PATHS.election, { participantId: 'beta' }).start();
  const members = recipes.membership();
  await members.join(PATHS.group, { worker: 'w1' });
  await members.join(PATHS.group, { worker: 'w2' });
  await recipes.serviceRegistry().register({ name: 'orders', address: '127.0.0.1', port: 8080 });

  const queue = messaging.queue<{ n: number; fail?: boolean }>(PATHS.queue);
  await queue.publish({ n: 0, fail: true });
  const consumer = await queue.consume({ maxAttempts: 1 }, async (message) => {
    if (message.fail) throw new Error('cannot handle n=0');
  });
  const deadline = Date.now() + 10_000;
  while ((await queue.deadLetters()).length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await consumer.stop();
  await queue.publish([{ n: 1 }, { n: 2 }]);

  const log = messaging.broadcast<{ order: number }>(PATHS.log);
  await log.publish([{ order: 1 }, { order: 2 }, { order: 3 }]);
  await new Promise<void>((resolve) => {
    const subscription = log.deliveries('billing', { from: 'earliest' }).subscribe((delivery) => {
      delivery.ack();
      if (delivery.message.order === 2) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });

  await zk.create(`${PATHS.storage}/limits/max-orders`, JSON.stringify({ max: 10 }), {
    createParents: true,
  });
  await zk.create(`${PATHS.storage}/feature`, 'on');

  return {
    app,
    url,
    zk,
    recipes,
    messaging,
    election,
    close: () => app.close(),
  };
}

/** Reads the event stream until `accept` returns true for one sample (or the timeout). */
export async function nextEvent<T>(
  url: string,
  accept: (snapshot: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const snapshot = JSON.parse(data) as T;
        if (accept(snapshot)) return snapshot;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
