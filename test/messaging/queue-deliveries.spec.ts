import { describe, expect, it } from '@jest/globals';
import { Subscription } from 'rxjs';
import { QueueDelivery, WorkQueue, WorkQueueEvent } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { range, type Message } from './support.js';

const connections = useTestConnections('queue-deliveries');

describe('WorkQueue.deliveries (Observable with ack/nack)', () => {
  it('delivers every message in order, going on after each ack, and empties the queue', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/observable-ack');
    await queue.publish(range(0, 50));
    await queue.publish(range(50, 60));
    const received: number[] = [];
    const attempts: number[] = [];
    const subscription = queue.deliveries({ concurrency: 1 }).subscribe((delivery) => {
      received.push(delivery.message.n);
      attempts.push(delivery.attempt);
      // Acked later: the consumer waits for it before the next message of the item.
      setImmediate(() => delivery.ack());
    });
    await until(() => received.length === 60, { message: '60 deliveries' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(received).toEqual(range(0, 60).map((m) => m.n));
    expect(attempts).toEqual(received.map(() => 1));
    subscription.unsubscribe();
    await queue.close();
    expect(await connections.zk.getChildren('/queues/observable-ack/locks')).toEqual([]);
  });

  it('counts a nack as a failed attempt: retried, then dead-lettered', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/observable-nack');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.publish(range(0, 3));
    const runs: Array<[number, number]> = [];
    const subscription = queue
      .deliveries({ maxAttempts: 3, retryDelayMs: 10 })
      .subscribe((delivery) => {
        runs.push([delivery.message.n, delivery.attempt]);
        if (delivery.message.n === 1) delivery.nack(new Error(`no #1 (${delivery.attempt})`));
        else delivery.ack();
      });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    subscription.unsubscribe();
    expect(runs).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
    ]);
    const dead = await queue.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ message: { n: 1 }, attempts: 3, index: 1 });
    expect(dead[0].error).toContain('no #1 (3)');
    expect(events.map((event) => event.type)).toEqual([
      'handler-failed',
      'handler-failed',
      'dead-lettered',
    ]);
    await queue.close();
  });

  it('unsubscribing gives an unacked delivery back: another consumer takes the item', async () => {
    const path = '/queues/observable-release';
    const [zkA, zkB] = await Promise.all([connections.open(), connections.open()]);
    const queueA = new WorkQueue<Message>(zkA, path);
    const queueB = new WorkQueue<Message>(zkB, path);
    await queueA.publish(range(0, 5));

    // A acks the first two messages and leaves the third unacked.
    const seenByA: QueueDelivery<Message>[] = [];
    let third!: () => void;
    const thirdArrived = new Promise<void>((resolve) => (third = resolve));
    const subscriptionA: Subscription = queueA.deliveries().subscribe((delivery) => {
      seenByA.push(delivery);
      if (delivery.index < 2) delivery.ack();
      else third();
    });
    await thirdArrived;
    const item = seenByA[0].item;
    expect(await connections.zk.getChildren(`${path}/locks`)).toEqual([item]);
    subscriptionA.unsubscribe();
    await until(async () => (await connections.zk.getChildren(`${path}/locks`)).length === 0, {
      message: 'the release',
    });
    seenByA[2].ack(); // too late: ignored

    const seenByB: QueueDelivery<Message>[] = [];
    const subscriptionB = queueB.deliveries().subscribe((delivery) => {
      seenByB.push(delivery);
      delivery.ack();
    });
    await until(async () => (await queueB.pendingItems()) === 0, { message: 'an empty queue' });
    subscriptionB.unsubscribe();
    // Resumed at the unacked message, and the give-back did not count as an attempt.
    expect(seenByB[0]).toMatchObject({ item, index: 2, attempt: 1, message: { n: 2 } });
    expect(seenByB.map((d) => d.message.n)).toEqual([2, 3, 4]);
    expect(seenByA.map((d) => d.message.n)).toEqual([0, 1, 2]);
    await Promise.all([queueA.close(), queueB.close()]);
  });
});
