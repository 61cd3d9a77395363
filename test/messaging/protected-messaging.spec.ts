// Issue #15 (access control): a work queue and a broadcast log created by an owner whose
// connection protects everything it creates (digest credentials, defaultAcl CREATOR_ALL_ACL).
// Every node they hold (items, locks, progress, dead letters, waiters, log entries, offsets,
// client registrations) carries the ACL, also the ephemeral ones re-created after an expiry of
// the owner's session; a client without credentials or with wrong ones gets NoAuthError for every
// read, write and delete, raw and through the queue's and the log's APIs; the owner's queue and
// log keep working across the expiry. Runs on both drivers.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import {
  BroadcastLog,
  ConnectionState,
  NoAuthError,
  QueueConsumer,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { nextState, useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import {
  describeIntruders,
  expectLockedOut,
  expectNoAuth,
  OWNER_AUTH,
  OWNER_OPTIONS,
  walkTree,
  wrongAcls,
} from '../support/protection.js';

const connections = useTestConnections('protected-messaging');
const APP = '/owned/app';

type Job = { n: number; hold?: boolean; fail?: boolean };

let owner: ZookeeperConnection;
let admin: ZookeeperConnection;
let jobs: WorkQueue<Job>;
let dead: WorkQueue<Job>;
let live: WorkQueue<Job>;
let topic: BroadcastLog<Job>;
const consumers: QueueConsumer<Job>[] = [];
const unsubscribers: Array<() => void> = [];
let releaseHold!: () => void;
const held = new Promise<void>((resolve) => (releaseHold = resolve));
let releaseFirstHold!: () => void;
const firstHold = new Promise<void>((resolve) => (releaseFirstHold = resolve));
let holds = 0;
const handled = new Set<number>();
const delivered = new Set<number>();

/** The names of the children of `path` in the owner's tree (admin's view). */
const childrenOf = (path: string) => admin.getChildren(`${APP}${path}`);

beforeAll(async () => {
  owner = await connections.open({ namespace: connections.namespace + APP, ...OWNER_OPTIONS });
  admin = await connections.open({ auth: OWNER_AUTH });

  // A held item (its lock, and progress after its first message), a waiter line.
  jobs = new WorkQueue<Job>(owner, '/queues/jobs');
  await jobs.publish([{ n: 1 }, { n: 2, hold: true }]);
  consumers.push(
    // The first run of the held message waits for `releaseFirstHold`, every later run for good.
    await jobs.consume({ progressIntervalMs: 0 }, async (job) => {
      if (job.hold) await (holds++ === 0 ? firstHold : held);
    }),
  );
  // A dead letter.
  dead = new WorkQueue<Job>(owner, '/queues/dead');
  await dead.publish({ n: 1, fail: true });
  consumers.push(
    await dead.consume({ maxAttempts: 1 }, async () => {
      throw new Error('always fails');
    }),
  );
  // A queue and a log that must keep working across the owner's expiry.
  live = new WorkQueue<Job>(owner, '/queues/live');
  consumers.push(await live.consume(async (job) => void handled.add(job.n)));
  topic = new BroadcastLog<Job>(owner, '/topics/live', { commitIntervalMs: 0 });
  const subscription = topic.deliveries('billing', { from: 'earliest' }).subscribe((delivery) => {
    delivered.add(delivery.message.n);
    delivery.ack();
  });
  unsubscribers.push(() => subscription.unsubscribe());
  await live.publish([{ n: 1 }, { n: 2 }]);
  await topic.publish([{ n: 1 }, { n: 2 }]);

  await until(async () => (await dead.deadLetters()).length === 1, { message: 'a dead letter' });
  await until(async () => (await childrenOf('/queues/jobs/locks')).length === 1, {
    message: 'the held item locked',
  });
  await until(async () => (await childrenOf('/queues/jobs/progress')).length === 1, {
    message: 'the held item with progress',
  });
  await until(() => handled.size === 2 && delivered.size === 2, { message: 'first messages' });
  await until(async () => (await childrenOf('/topics/live/offsets')).length === 1, {
    message: 'an offset committed',
  });
});

afterAll(async () => {
  releaseFirstHold();
  releaseHold();
  for (const unsubscribe of unsubscribers) unsubscribe();
  for (const consumer of consumers) await consumer.stop().catch(() => undefined);
  for (const messaging of [jobs, dead, live, topic]) await messaging?.close().catch(() => {});
});

it('every node of the queues and the log carries the ACL', async () => {
  const nodes = await walkTree(admin, APP);
  for (const folder of ['items', 'locks', 'progress', 'dead', 'waiters']) {
    expect(nodes).toContain(`${APP}/queues/jobs/${folder}`);
  }
  expect((await childrenOf('/queues/dead/dead')).length).toBe(1);
  expect((await childrenOf('/topics/live/log')).length).toBeGreaterThan(0);
  expect((await childrenOf('/topics/live/clients')).length).toBe(1);
  expect(await wrongAcls(admin, '/owned')).toEqual([]);
});

describeIntruders(connections, APP, (intruder) => {
  it('gets NoAuthError for every read, write and delete of every queue and log node, raw', async () => {
    const nodes = await walkTree(admin, `${APP}/queues`);
    nodes.push(...(await walkTree(admin, `${APP}/topics`)));
    expect(nodes.length).toBeGreaterThan(20);
    for (const path of nodes) await expectLockedOut(intruder.raw, admin, path);
  });

  it('gets NoAuthError from the queue: publish, consume, dead letters, pending items', async () => {
    const queue = new WorkQueue<Job>(intruder.inApp, '/queues/jobs');
    try {
      await expectNoAuth(queue.publish({ n: 99 }));
      await expectNoAuth(queue.consume(async () => undefined));
      await expectNoAuth(queue.pendingItems());
      await expectNoAuth(new WorkQueue<Job>(intruder.inApp, '/queues/dead').deadLetters());
    } finally {
      await queue.close().catch(() => undefined);
    }
  });

  it('gets NoAuthError from the log: publish, deliveries, stats, offsets', async () => {
    const log = new BroadcastLog<Job>(intruder.inApp, '/topics/live');
    try {
      await expectNoAuth(log.publish({ n: 99 }));
      await expectNoAuth(firstValueFrom(log.deliveries('spy', { from: 'earliest' })));
      await expectNoAuth(log.stats());
      await expectNoAuth(log.committedOffsets());
      await expectNoAuth(log.removeSubscriber('billing'));
    } finally {
      await log.close().catch(() => undefined);
    }
    expect((await topic.committedOffsets()).has('billing')).toBe(true);
  });
});

it('the owner keeps publishing, consuming and delivering across its session expiry, protected', async () => {
  const sessionBefore = owner.session.id;
  const reconnected = nextState(owner, ConnectionState.CONNECTED);
  await expireSession(owner);
  await reconnected;
  expect(owner.session.id).not.toBe(sessionBefore);

  await live.publish([{ n: 3 }, { n: 4 }]);
  await topic.publish([{ n: 3 }, { n: 4 }]);
  await until(() => handled.size === 4 && delivered.size === 4, {
    message: 'the messages published after the expiry',
    timeoutMs: 30_000,
  });
  // The held item's lock went with the old session: once its handler returns, the item is
  // abandoned and taken again, under a new lock.
  releaseFirstHold();
  await until(async () => holds === 2 && (await childrenOf('/queues/jobs/locks')).length === 1, {
    message: 'the held item locked again',
    timeoutMs: 30_000,
  });
  // The ephemeral nodes made for the new session (locks, waiters, the log's client) are protected.
  await until(async () => (await childrenOf('/topics/live/clients')).length === 1, {
    message: 'the subscriber registered again',
  });
  const ephemerals: string[] = [];
  for (const path of await walkTree(admin, APP)) {
    const stat = await admin.exists(path);
    if (stat?.ephemeralOwner === owner.session.id) ephemerals.push(path);
  }
  expect(ephemerals.length).toBeGreaterThan(1);
  expect(await wrongAcls(admin, '/owned')).toEqual([]);
  const intruder = await connections.open();
  for (const path of ephemerals) await expectLockedOut(intruder, admin, path);
  await expect(intruder.get(`${APP}/queues/jobs/items`)).rejects.toBeInstanceOf(NoAuthError);
});
