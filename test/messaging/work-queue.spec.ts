import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { WorkQueue, WorkQueueEvent } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { range, type Message } from './support.js';

const connections = useTestConnections('queue');

describe('WorkQueue', () => {
  it('is FIFO for one consumer, across arrays and single publishes', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/fifo', { lingerMs: 5 });
    await queue.publish(range(0, 400));
    for (const message of range(400, 450)) await queue.publish(message);
    await Promise.all(range(450, 600).map((message) => queue.publish(message)));
    const handled: number[] = [];
    await queue.consume({ concurrency: 1 }, (message) => void handled.push(message.n));
    await queue.publish(range(600, 700));
    await until(() => handled.length >= 700, { message: '700 messages' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(handled).toEqual(range(0, 700).map((m) => m.n));
    await queue.close();
    expect(await connections.zk.getChildren('/queues/fifo/locks')).toEqual([]);
    expect(await connections.zk.getChildren('/queues/fifo/progress')).toEqual([]);
  });

  it('moves a message to the dead letters after maxAttempts, goes on, and replays it', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/dead');
    await queue.publish(range(0, 10));
    const runs = new Map<number, number>();
    let poisoned = true;
    await queue.consume({ maxAttempts: 3, retryDelayMs: 10 }, (message, context) => {
      runs.set(message.n, (runs.get(message.n) ?? 0) + 1);
      if (message.n === 4 && poisoned)
        throw new Error(`cannot handle #4 (attempt ${context.attempt})`);
    });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(runs.get(4)).toBe(3);
    expect([...runs.entries()].filter(([n, count]) => n !== 4 && count !== 1)).toEqual([]);
    const dead = await queue.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ message: { n: 4 }, attempts: 3, index: 4 });
    expect(dead[0].error).toContain('cannot handle #4 (attempt 3)');

    poisoned = false;
    expect(await queue.replay()).toBe(1);
    await until(() => runs.get(4) === 4, { message: 'the replayed message' });
    expect(await queue.deadLetters()).toEqual([]);
    await queue.close();
  });

  it('shares the work among competing consumers, never above their concurrency', async () => {
    const TOTAL = 3000;
    const queue = new WorkQueue<Message>(connections.zk, '/queues/compete', { lingerMs: 2 });
    const handled = new Map<number, number>();
    const perConsumer = [0, 0, 0];
    let maxHeld = 0;
    const consumers = await Promise.all(
      [0, 1, 2].map(async (id) => {
        const consumerZk = await connections.open();
        const consumerQueue = new WorkQueue<Message>(consumerZk, '/queues/compete');
        const consumer = await consumerQueue.consume({ concurrency: 2 }, async (message) => {
          maxHeld = Math.max(maxHeld, consumer.heldItems.length);
          handled.set(message.n, (handled.get(message.n) ?? 0) + 1);
          perConsumer[id]++;
          if (message.n % 100 === 0) await delay(1); // some messages take a while
        });
        return consumerQueue;
      }),
    );
    const started = Date.now();
    for (let n = 0; n < TOTAL; n += 100) await queue.publish(range(n, n + 100));
    await until(() => handled.size === TOTAL, { message: `${TOTAL} messages` });
    const elapsed = Date.now() - started;
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
    expect(maxHeld).toBeLessThanOrEqual(2);
    console.log(
      `queue: ${TOTAL} messages through 3 in-process consumers in ${elapsed} ms ` +
        `(${Math.round((TOTAL * 1000) / elapsed)} msg/s), split ${perConsumer.join('/')}`,
    );
    await Promise.all([queue.close(), ...consumers.map((consumer) => consumer.close())]);
  });

  it('a consumer whose session expires while it holds an item abandons it; nothing is lost', async () => {
    const TOTAL = 60;
    const path = '/queues/expiry';
    const [victimZk, otherZk] = await Promise.all([
      connections.open({ sessionTimeoutMs: 2000 }),
      connections.open(),
    ]);
    const victimQueue = new WorkQueue<Message>(victimZk, path);
    const otherQueue = new WorkQueue<Message>(otherZk, path);
    const events: WorkQueueEvent[] = [];
    victimQueue.events$.subscribe((event) => events.push(event));
    const runs = new Map<number, number>();
    const count = (n: number) => runs.set(n, (runs.get(n) ?? 0) + 1);
    let expired!: () => void;
    const expiry = new Promise<void>((resolve) => (expired = resolve));
    let inside!: () => void;
    const victimInside = new Promise<void>((resolve) => (inside = resolve));
    // The victim takes the one item and is inside message #10 when its session expires.
    await victimQueue.consume({ progressIntervalMs: 0 }, async (message) => {
      count(message.n);
      if (message.n === 10) {
        inside();
        await expiry;
      }
    });
    await victimQueue.publish(range(0, TOTAL));
    await victimInside;
    const [item] = await connections.zk.getChildren(`${path}/items`);
    expect(await connections.zk.getChildren(`${path}/locks`)).toEqual([item]);
    await otherQueue.consume({}, (message) => void count(message.n));

    await expireSession(victimZk);
    expired();
    await until(async () => (await connections.zk.getChildren(`${path}/items`)).length === 0, {
      message: 'the item done',
    });
    await until(
      () => events.some((event) => event.type === 'item-abandoned' && event.item === item),
      { message: 'an item-abandoned event' },
    );

    expect(Array.from({ length: TOTAL }, (_, n) => n).filter((n) => !runs.has(n))).toEqual([]);
    // Only the message running at the expiry runs again (resumed from the stored progress).
    const twice = [...runs].filter(([, times]) => times > 1).map(([n]) => n);
    expect(twice).toEqual([10]);
    expect(runs.get(10)).toBe(2);
    // The finishing consumer deletes the item, then its progress, then its lock.
    await until(async () => (await connections.zk.getChildren(`${path}/locks`)).length === 0, {
      message: 'no lock',
    });
    expect(await connections.zk.getChildren(`${path}/progress`)).toEqual([]);
    await Promise.all([victimQueue.close(), otherQueue.close()]);
  });

  it('a consumer stopped while a message keeps failing gives the item back, attempts kept', async () => {
    const path = '/queues/stop-retrying';
    const queue = new WorkQueue<Message>(connections.zk, path);
    const attempts: number[] = [];
    const first = await queue.consume(
      { maxAttempts: 1000, retryDelayMs: 20 },
      (_message, context) => {
        attempts.push(context.attempt);
        throw new Error('still failing');
      },
    );
    await queue.publish({ n: 1 });
    await until(() => attempts.length >= 3, { message: 'three failed runs' });
    await first.stop();
    const stoppedAfter = attempts.length;
    expect(await connections.zk.getChildren(`${path}/locks`)).toEqual([]);
    // A second consumer resumes the count where the first one stopped.
    const resumed = new Promise<number>((resolve) => {
      void queue.consume({}, (_message, context) => void resolve(context.attempt));
    });
    expect(await resumed).toBe(stoppedAfter + 1);
    expect(attempts.length).toBe(stoppedAfter);
    await queue.close();
  });
});
