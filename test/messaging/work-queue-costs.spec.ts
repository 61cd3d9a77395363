import { describe, expect, it } from '@jest/globals';
import {
  ConnectionState,
  QueueConsumer,
  TransactionFailedError,
  WorkQueue,
  WorkQueueEvent,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';
import { gate, range, within, zxidNow, type Message } from './support.js';

// A server of its own: the zxid advance between two marker writes counts every write
// transaction in between, which is exact only when nobody else writes.
const dedicated = new DedicatedServer();

describe('WorkQueue costs and fencing (own server)', () => {
  it('unbatched at-least-once: at most three server transactions per message with multi', async () => {
    const N = 40;
    const path = '/queues/writes';
    const zk = await dedicated.connect();
    const consumerZk = await dedicated.connect();
    const queue = new WorkQueue<Message>(zk, path);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    const handled: number[] = [];
    await consumerQueue.consume((message) => void handled.push(message.n));
    // Set up (folders, the consumer in line, its first listing) before the first marker.
    await until(async () => (await zk.getChildren(`${path}/waiters`)).length === 1, {
      message: 'the consumer in line',
    });
    await queue.publish({ n: -1 });
    await until(() => handled.length === 1, { message: 'the warm-up message' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });

    await zk.mkdirp('/markers');
    // A write retried after a lost reply (a connection loss under load) may take a second zxid
    // (a failed retry is a transaction too): counted, and allowed for, per suspension.
    let suspensions = 0;
    const watching = [zk, consumerZk].map((connection) =>
      connection.state$.subscribe((state) => {
        if (state === ConnectionState.SUSPENDED) suspensions++;
      }),
    );
    const first = await zxidNow(zk);
    for (const message of range(0, N)) await queue.publish(message);
    await until(() => handled.length === N + 1, { message: `${N} messages` });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    await until(async () => (await zk.getChildren(`${path}/locks`)).length === 0, {
      message: 'no lock',
    });
    const last = await zxidNow(zk);
    for (const subscription of watching) subscription.unsubscribe();

    const perMessage = (last - first - 1) / N;
    const driver = zk.capabilities.multi ? 'with multi' : 'without multi';
    console.log(
      `work queue, ${N} unbatched messages (each publish awaited, one consumer, ${driver}): ` +
        `${last - first - 1} write transactions, ${perMessage.toFixed(2)} per message` +
        (suspensions ? ` (${suspensions} connection suspension(s) meanwhile)` : ''),
    );
    expect(handled).toEqual([-1, ...range(0, N).map((m) => m.n)]);
    expect(await zk.getChildren(`${path}/progress`)).toEqual([]);
    // Native: exactly 160 when run alone, 161 seen twice in a loaded full run (one extra
    // transaction, perhaps a failed one; not pinned down yet), so it gets a margin of 2.
    const allowed = zk.capabilities.multi ? 3 * N : 4 * N + 2;
    expect(last - first - 1).toBeLessThanOrEqual(allowed + 2 * suspensions);
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 120_000);

  it('a consumer whose session expired mid-item cannot acknowledge it; its next owner runs it again', async () => {
    const path = '/queues/fenced';
    const observer = await dedicated.connect();
    const [victimZk, otherZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const victimQueue = new WorkQueue<Message>(victimZk, path);
    const otherQueue = new WorkQueue<Message>(otherZk, path);
    const victimEvents: WorkQueueEvent[] = [];
    victimQueue.events$.subscribe((event) => victimEvents.push(event));
    // What a step that never comes says: connection states and queue events, in order.
    const seen: string[] = [];
    for (const [who, connection, queue] of [
      ['victim', victimZk, victimQueue],
      ['other', otherZk, otherQueue],
    ] as const) {
      connection.state$.subscribe((state) => seen.push(`${who} ${state}`));
      queue.events$.subscribe((event) => seen.push(`${who} ${describeEvent(event)}`));
    }
    const runs: string[] = [];
    const consumers: Array<[string, QueueConsumer<Message>]> = [];
    const story = (step: string) => () => {
      const held = consumers.map(
        ([who, consumer]) =>
          `${who} holds [${consumer.heldItems}], stats ${JSON.stringify(consumer.stats)}`,
      );
      return `${step} (runs: [${runs}]; ${held.join('; ')}; seen: ${seen.join(', ')})`;
    };
    const victimInside = gate();
    const victimGo = gate();
    const otherInside = gate();
    const otherGo = gate();

    const victim = await victimQueue.consume(async (message) => {
      runs.push(`victim ${message.n}`);
      victimInside.open();
      await victimGo.opened;
    });
    consumers.push(['victim', victim]);
    await victimQueue.publish({ n: 7 });
    await within(victimInside.opened, 30_000, story('the victim to take the item'));
    const [item] = await observer.getChildren(`${path}/items`);

    // The victim's lock goes with its session; another consumer takes the item over.
    await expireSession(victimZk);
    const other = await otherQueue.consume(async (message) => {
      runs.push(`other ${message.n}`);
      otherInside.open();
      await otherGo.opened;
    });
    consumers.push(['other', other]);
    await within(otherInside.opened, 30_000, story('the other consumer to take the item over'));

    // The victim's handler returns while the other consumer runs the message: no ack.
    victimGo.open();
    type Abandoned = Extract<WorkQueueEvent, { type: 'item-abandoned' }>;
    const isAbandoned = (event: WorkQueueEvent): event is Abandoned =>
      event.type === 'item-abandoned' && event.item === item;
    await until(() => victimEvents.some(isAbandoned), {
      message: "the victim's item-abandoned event",
    });
    const abandoned = victimEvents.find(isAbandoned)!;
    if (victimZk.capabilities.multi) {
      // The acknowledgement was sent and refused by the server: the progress version moved on.
      expect(abandoned.error).toBeInstanceOf(TransactionFailedError);
      expect((abandoned.error as TransactionFailedError).index).toBe(0);
    }
    expect(await observer.getChildren(`${path}/items`)).toEqual([item]);
    const lock = await observer.exists(`${path}/locks/${item}`);
    expect(lock?.ephemeralOwner).toBe(otherZk.session.id);

    otherGo.open();
    // Without multi the acknowledgement is three deletes in a row (item, progress, lock): the
    // item's may be seen gone while the lock's is still on its way.
    const left = async () =>
      (
        await Promise.all(
          ['items', 'locks', 'progress'].map((folder) => observer.getChildren(`${path}/${folder}`)),
        )
      ).flat();
    let remaining: string[] = [];
    await until(async () => (remaining = await left()).length === 0, {
      message: () => `the item acknowledged by its new owner; left: ${remaining.join(', ')}`,
    });
    expect(runs).toEqual(['victim 7', 'other 7']);
    expect(await victimQueue.deadLetters()).toEqual([]);
    await Promise.all([
      within(victimQueue.close(), 20_000, story("the victim's queue to close")),
      within(otherQueue.close(), 20_000, story("the other consumer's queue to close")),
    ]);
  }, 120_000);

  it('writes a lone awaited publish at once, whatever lingerMs; batches what comes together', async () => {
    const zk = await dedicated.connect();
    const queue = new WorkQueue<Message>(zk, '/queues/linger', { lingerMs: 2000 });
    await queue.pendingItems(); // folders made: only the publish is timed
    const started = Date.now();
    await queue.publish({ n: 1 });
    // A behavioural bound: the 2000 ms linger window was not waited for.
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await queue.pendingItems()).toBe(1);

    // Publishes of the same turn share one batch; once batches have company, the next one
    // lingers for more: a publish a turn of the event loop later still joins it (without the
    // linger, the first would have been written on that turn, alone).
    const burst = new WorkQueue<Message>(zk, '/queues/linger-burst', { lingerMs: 200 });
    await burst.pendingItems();
    await Promise.all(range(0, 50).map((message) => burst.publish(message)));
    expect(await burst.pendingItems()).toBe(1);
    const single = burst.publish({ n: 50 });
    await new Promise((resolve) => setImmediate(resolve));
    await burst.publish({ n: 51 });
    await single;
    expect(await burst.pendingItems()).toBe(2);
    await Promise.all([queue.close(), burst.close()]);
  }, 60_000);

  it('writes a batch as big as the last one at once, without waiting out the linger window', async () => {
    const zk = await dedicated.connect();
    const queue = new WorkQueue<Message>(zk, '/queues/linger-full', { lingerMs: 2000 });
    await queue.pendingItems();
    // A publisher with 50 in flight: each round queues as many as the last batch carried.
    await Promise.all(range(0, 50).map((message) => queue.publish(message)));
    const started = Date.now();
    for (let round = 1; round <= 3; round++) {
      await Promise.all(
        range(round * 50, round * 50 + 50).map((message) => queue.publish(message)),
      );
    }
    // A behavioural bound: three 2000 ms linger windows (6 s) were not waited for.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await queue.pendingItems()).toBe(4);
    await queue.close();
  }, 60_000);
});

function describeEvent(event: WorkQueueEvent): string {
  const error = 'error' in event && event.error instanceof Error ? `: ${event.error.name}` : '';
  return `${event.type}${'item' in event ? ` ${event.item}` : ''}${error}`;
}
