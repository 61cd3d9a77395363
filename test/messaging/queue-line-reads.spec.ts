import { describe, expect, it } from '@jest/globals';
import { WorkQueue, ZookeeperConnection } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { ItemListing } from '../../libs/zookeeper/src/messaging/queue/item-listing.js';
import { gate, type Message } from './support.js';

const connections = useTestConnections('queue-line-reads');

/** Counts the listings of `folder` that `connection` sends (the real calls, passed through). */
function countListings(connection: ZookeeperConnection, folder: string): () => number {
  let count = 0;
  const getChildren = connection.getChildren.bind(connection);
  connection.getChildren = (path, options) => {
    if (path === folder) count++;
    return getChildren(path, options);
  };
  return () => count;
}

describe('WorkQueue consumer: reads of the line and of the items', () => {
  it('a lone consumer taking items one at a time reads the line once (then a watch) and, with persistent watches, takes each item without listing the items', async () => {
    const ITEMS = 40;
    const path = '/queues/lone';
    const publisher = new WorkQueue<Message>(connections.zk, path, { lingerMs: 0 });
    const consumerZk = await connections.open();
    const lineReads = countListings(consumerZk, `${path}/waiters`);
    const itemListings = countListings(consumerZk, `${path}/items`);
    const handled: number[] = [];
    const consumer = await new WorkQueue<Message>(consumerZk, path).consume(
      { concurrency: 2 },
      (message) => void handled.push(message.n),
    );
    // One at a time, so each item is a take of its own (and a turn passed, before).
    for (let n = 0; n < ITEMS; n++) {
      await publisher.publish({ n });
      await until(() => handled.length === n + 1, { message: `item ${n} handled` });
    }
    expect(handled).toEqual(Array.from({ length: ITEMS }, (_, n) => n));
    // Before: one listing of the line per item taken (40 and more).
    expect(lineReads()).toBeLessThanOrEqual(4);
    if (consumerZk.capabilities.persistentWatches) {
      // Followed by name: a listing at the start (and the follower's own), none per item (two
      // per item before: 81).
      expect(itemListings()).toBeLessThanOrEqual(4);
    } else {
      // One-shot watches: the items are listed again after each change.
      expect(itemListings()).toBeGreaterThanOrEqual(ITEMS);
    }
    await consumer.stop();
  });

  it('a consumer that saw nobody waiting passes its turn again once another joins', async () => {
    const path = '/queues/joined';
    const publisher = new WorkQueue<Message>(connections.zk, path, { lingerMs: 0 });
    const byConsumer: number[][] = [[], [], []];
    const consume = async (index: number) =>
      new WorkQueue<Message>(await connections.open(), path).consume(
        { concurrency: 1 },
        (message) => void byConsumer[index].push(message.n),
      );
    const first = await consume(0);
    for (let n = 0; n < 5; n++) {
      await publisher.publish({ n });
      await until(() => byConsumer[0].length === n + 1, { message: `item ${n} handled` });
    }
    // Two more join behind the front of two: items now go round all three (a consumer that
    // keeps skipping its pass would keep every item to the front).
    const others = [await consume(1), await consume(2)];
    await until(async () => (await connections.zk.getChildren(`${path}/waiters`)).length === 3, {
      message: 'three consumers in line',
    });
    for (let n = 5; n < 35; n++) {
      await publisher.publish({ n });
      await until(() => byConsumer.flat().length === n + 1, { message: `item ${n} handled` });
    }
    for (const items of byConsumer.slice(1)) expect(items.length).toBeGreaterThan(0);
    await Promise.all([first, ...others].map((consumer) => consumer.stop()));
  });
  it('a line removed by hand and joined again still hands the turn to a consumer that joins later', async () => {
    const path = '/queues/purged-line';
    const publisher = new WorkQueue<Message>(connections.zk, path, { lingerMs: 0 });
    const handledBy: Array<[string, number]> = [];
    const held = gate();
    const consume = async (name: string) =>
      new WorkQueue<Message>(await connections.open(), path).consume(
        { concurrency: 1, lineFront: 1 },
        async (message) => {
          handledBy.push([name, message.n]);
          if (message.n === 100) await held.opened;
        },
      );
    const a = await consume('a');
    await publisher.publish({ n: 0 });
    await until(() => handledBy.length === 1, { message: 'item 0 handled' });
    await connections.zk.delete(`${path}/waiters`, { recursive: true });
    // The next takes find the line gone: the consumer joins again and looks at the line anew.
    for (let n = 1; n < 4; n++) {
      await publisher.publish({ n });
      await until(() => handledBy.length === n + 1, { message: `item ${n} handled` });
    }
    const b = await consume('b');
    await until(async () => (await connections.zk.getChildren(`${path}/waiters`)).length === 2, {
      message: 'both consumers in line',
    });
    // a is busy with item 100 (its only slot): it makes room, so b moves to the front and takes
    // item 101 while a still holds 100 (before: a kept its place and b waited behind it).
    await publisher.publish({ n: 100 });
    await until(() => handledBy.some(([, n]) => n === 100), { message: 'item 100 taken' });
    await publisher.publish({ n: 101 });
    await until(() => handledBy.some(([, n]) => n === 101), {
      message: () =>
        `item 101 taken while item 100 is held (handled: ${JSON.stringify(handledBy)})`,
      timeoutMs: 10_000,
    });
    expect(handledBy.find(([, n]) => n === 101)?.[0]).toBe('b');
    held.open();
    await Promise.all([a.stop(), b.stop()]);
  });
  it('a listing read dropped by invalidate() while it lists the segments leaves no follower behind', async () => {
    const path = '/queues/dropped-read';
    const queue = new WorkQueue<number>(connections.zk, path, {
      lingerMs: 0,
      segments: { rolloverAt: 2 },
    });
    for (let n = 0; n < 3; n++) await queue.publish(n); // the third batch rolls items over
    const zk = await connections.open();
    const reader = new WorkQueue<number>(zk, path, { segments: { rolloverAt: 2 } });
    const listing = new ItemListing(zk, reader.segments, () => undefined);
    // The read lists the segments (it knows only segment 0 yet) and finds segment 1; it is
    // dropped meanwhile, as on a turn passed or a reconnect.
    const dropped = listing.read(true);
    listing.invalidate();
    await dropped;
    // What stays is the one-shot watch on the queue node for new segments; no persistent watch
    // on a segment (before: the follower of segment 1 that nothing would ever stop). Without
    // persistent watches the read set one-shot watches on both segments, which stay until they
    // fire (ignored then: the read was dropped).
    const expected = zk.capabilities.persistentWatches ? 1 : 3;
    await until(() => zk.pendingWatchCount <= expected, {
      message: () => `watches left: ${zk.pendingWatchCount}`,
      timeoutMs: 5000,
    });
    await Promise.all([queue.close(), reader.close()]);
  });
});
