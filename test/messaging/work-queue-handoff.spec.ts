import { describe, expect, it } from '@jest/globals';
import {
  ConnectionLossError,
  CreateMode,
  TransactionFailedError,
  TransactionOp,
  WorkQueue,
  WorkQueueEvent,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';
import { gate, range, zxidNow, type Message } from './support.js';

// A server of its own: zxid advances count every write transaction (nobody else writes), and
// sessions are expired.
const dedicated = new DedicatedServer();

interface Recorded {
  ops: TransactionOp[];
  failedAt?: number;
}

type Multi = ZookeeperConnection['multi'];

/**
 * Records the transactions of a connection (how many operations, which one failed); `around`
 * may replace a call (to lose its reply, say).
 */
function recordTransactions(
  zk: ZookeeperConnection,
  around?: (ops: TransactionOp[], multi: Multi) => Promise<Awaited<ReturnType<Multi>>>,
): Recorded[] {
  const recorded: Recorded[] = [];
  const multi: Multi = zk.multi.bind(zk);
  zk.multi = async (ops) => {
    const entry: Recorded = { ops: [...ops] };
    recorded.push(entry);
    try {
      return await (around ? around(entry.ops, multi) : multi(ops));
    } catch (error) {
      if (error instanceof TransactionFailedError) entry.failedAt = error.index;
      throw error;
    }
  };
  return recorded;
}

/** Combined transactions: an acknowledgement's three deletes and a take's three operations. */
const combined = (recorded: Recorded[]) => recorded.filter((entry) => entry.ops.length === 6);

/** One item per message, each publish awaited: a backlog of unbatched items. */
async function publishEach(queue: WorkQueue<Message>, messages: Message[]): Promise<string[]> {
  for (const message of messages) await queue.publish(message);
  return (await queue.connection.getChildren(`${queue.path}/items`)).sort(bySequence);
}

const bySequence = (a: string, b: string) => a.slice(-10).localeCompare(b.slice(-10));

async function expectEmpty(zk: ZookeeperConnection, path: string): Promise<void> {
  await until(async () => (await zk.getChildren(`${path}/items`)).length === 0, {
    message: 'an empty queue',
  });
  await until(async () => (await zk.getChildren(`${path}/locks`)).length === 0, {
    message: 'no lock',
  });
  expect(await zk.getChildren(`${path}/progress`)).toEqual([]);
}

describe('WorkQueue: acknowledging an item and taking the next in one transaction', () => {
  it('a backlog of unbatched items costs two server transactions per message with multi', async () => {
    const N = 40;
    const path = '/queues/backlog-writes';
    const [zk, consumerZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const queue = new WorkQueue<Message>(zk, path);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    // Folders made beforehand: a mkdirp of existing nodes writes (failed creates).
    await Promise.all([queue.pendingItems(), consumerQueue.pendingItems(), zk.mkdirp('/markers')]);
    const handled: number[] = [];
    const first = gate();
    await consumerQueue.consume(async (message) => {
      handled.push(message.n);
      if (message.n === 0) await first.opened;
    });
    await until(async () => (await zk.getChildren(`${path}/waiters`)).length === 1, {
      message: 'the consumer in line',
    });

    const before = await zxidNow(zk);
    // The first item is taken at once and held while the others pile up behind it.
    await queue.publish({ n: 0 });
    await until(() => handled.length === 1, { message: 'the first message' });
    await publishEach(queue, range(1, N));
    first.open();
    await until(() => handled.length === N, { message: `${N} messages` });
    await expectEmpty(zk, path);
    const after = await zxidNow(zk);

    const writes = after - before - 1;
    console.log(
      `work queue, a backlog of ${N} unbatched items, one consumer ` +
        `(${zk.capabilities.multi ? 'with' : 'without'} multi): ${writes} write transactions, ` +
        `${(writes / N).toFixed(2)} per message`,
    );
    expect(handled).toEqual(range(0, N).map((m) => m.n));
    // With multi: N publishes, then take + ack of the first item, a take of the second (the
    // backlog listed), N - 2 combined transactions and the last acknowledgement alone: 2N + 2.
    // Without: 4 per message, as before (nothing to combine).
    expect(writes).toBeLessThanOrEqual(zk.capabilities.multi ? 2 * N + 2 : 4 * N + 2);
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 120_000);

  it('the next item locked by another consumer: acknowledged alone, the next one taken, nothing run twice', async () => {
    const path = '/queues/next-locked';
    const [zk, consumerZk, otherZk] = await Promise.all([
      dedicated.connect(),
      dedicated.connect(),
      dedicated.connect(),
    ]);
    const queue = new WorkQueue<Message>(zk, path);
    const [a, b] = await publishEach(queue, range(0, 3));
    // Another consumer holds b (its lock, as a take creates it).
    await otherZk.create(`${path}/locks/${b}`, '', { mode: CreateMode.EPHEMERAL });

    const recorded = recordTransactions(consumerZk);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    const events: WorkQueueEvent[] = [];
    consumerQueue.events$.subscribe((event) => events.push(event));
    const handled: number[] = [];
    const first = gate();
    await consumerQueue.consume(async (message) => {
      handled.push(message.n);
      if (message.n === 0) await first.opened;
    });
    await until(() => handled.length === 1, { message: 'the first message' });
    first.open();
    await until(() => handled.length === 2, { message: 'the message after the locked one' });
    expect(handled).toEqual([0, 2]);
    expect(await zk.exists(`${path}/items/${a}`)).toBeUndefined();

    // The other consumer lets b go: this one takes it.
    await zk.delete(`${path}/locks/${b}`);
    await until(() => handled.length === 3, { message: 'the formerly locked message' });
    await expectEmpty(zk, path);
    expect(handled).toEqual([0, 2, 1]);
    expect(events.filter((event) => event.type !== 'handler-failed')).toEqual([]);
    if (consumerZk.capabilities.multi) {
      // The combined transaction failed on the lock (operation 4): a then went alone.
      expect(combined(recorded)[0]).toMatchObject({ failedAt: 4 });
    }
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 60_000);

  it('the next item with progress left by an earlier holder: taken on with its attempts', async () => {
    const path = '/queues/next-progress';
    const [zk, consumerZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const queue = new WorkQueue<Message>(zk, path);
    const [, b] = await publishEach(queue, range(0, 3));
    // An earlier holder failed b's message once, and crashed.
    await zk.create(`${path}/progress/${b}`, JSON.stringify({ next: 0, attempts: 1 }));

    const recorded = recordTransactions(consumerZk);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    const runs: Array<[number, number]> = [];
    await consumerQueue.consume((message, context) => void runs.push([message.n, context.attempt]));
    await until(() => runs.length === 3, { message: '3 messages' });
    await expectEmpty(zk, path);
    expect(runs).toEqual([
      [0, 1],
      [1, 2],
      [2, 1],
    ]);
    if (consumerZk.capabilities.multi) {
      // The take part failed on the progress node (operation 5); the take went on with it.
      expect(combined(recorded)[0]).toMatchObject({ failedAt: 5 });
      expect(combined(recorded)[1].failedAt).toBeUndefined();
    }
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 60_000);

  it('the next item gone meanwhile: the finished one acknowledged alone, the one after taken', async () => {
    const path = '/queues/next-gone';
    const [zk, consumerZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const queue = new WorkQueue<Message>(zk, path);
    const [a, b] = await publishEach(queue, range(0, 3));
    const recorded = recordTransactions(consumerZk);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    const events: WorkQueueEvent[] = [];
    consumerQueue.events$.subscribe((event) => events.push(event));
    const handled: number[] = [];
    const first = gate();
    await consumerQueue.consume(async (message) => {
      handled.push(message.n);
      if (message.n === 0) await first.opened;
    });
    await until(() => handled.length === 1, { message: 'the first message' });
    // Finished by another consumer while this one knew it as the next (and may have read it).
    await zk.delete(`${path}/items/${b}`);
    first.open();
    await until(() => handled.length === 2, { message: 'the message after the gone one' });
    await expectEmpty(zk, path);
    expect(handled).toEqual([0, 2]);
    expect(await zk.exists(`${path}/items/${a}`)).toBeUndefined();
    expect(events).toEqual([]);
    if (consumerZk.capabilities.multi) {
      // The combined transaction failed on the item's check (operation 3).
      expect(combined(recorded)[0]).toMatchObject({ failedAt: 3 });
    }
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 60_000);

  it('a session that expires while running an item taken in a combined transaction: the item runs again, nothing lost', async () => {
    const path = '/queues/handoff-expiry';
    const [zk, consumerZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const queue = new WorkQueue<Message>(zk, path);
    const [, b] = await publishEach(queue, range(0, 4));
    const recorded = recordTransactions(consumerZk);
    const consumerQueue = new WorkQueue<Message>(consumerZk, path);
    const events: WorkQueueEvent[] = [];
    consumerQueue.events$.subscribe((event) => events.push(event));
    const handled: number[] = [];
    const inside = gate();
    const go = gate();
    await consumerQueue.consume(async (message) => {
      handled.push(message.n);
      if (message.n === 1 && handled.length === 2) {
        inside.open();
        await go.opened;
      }
    });
    await inside.opened;
    if (consumerZk.capabilities.multi) {
      // b came with a's acknowledgement.
      expect(combined(recorded)).toHaveLength(1);
      expect(combined(recorded)[0].ops[3]).toMatchObject({ path: `${path}/items/${b}` });
    }
    await expireSession(consumerZk);
    go.open();

    // The lone consumer takes b again in its new session: kept takeable after the refused ack.
    await until(() => handled.length === 5, { message: 'b run again, and the rest' });
    await expectEmpty(zk, path);
    expect(handled).toEqual([0, 1, 1, 2, 3]);
    const abandoned = events.filter((event) => event.type === 'item-abandoned');
    expect(abandoned).toMatchObject([{ item: b }]);
    if (consumerZk.capabilities.multi) {
      // The acknowledgement reached the server and was refused: the lock went with the session.
      const [{ error }] = abandoned as Array<{ error?: unknown }>;
      expect(error).toBeInstanceOf(TransactionFailedError);
      expect((error as TransactionFailedError).index).toBe(2);
    }
    await Promise.all([queue.close(), consumerQueue.close()]);
  }, 60_000);

  it('a combined transaction whose reply is lost is recovered: applied or not, each message runs once', async () => {
    const [zk, consumerZk] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    if (!consumerZk.capabilities.multi) return; // nothing is combined without multi
    for (const applied of [true, false]) {
      const path = `/queues/handoff-lost-${applied ? 'applied' : 'unapplied'}`;
      const queue = new WorkQueue<Message>(zk, path);
      await publishEach(queue, range(0, 4));
      let lost = 0;
      const recorded = recordTransactions(consumerZk, async (ops, multi) => {
        if (ops.length !== 6 || lost++ > 0) return multi(ops);
        if (applied) await multi(ops);
        throw new ConnectionLossError({ operation: 'multi' });
      });
      const consumerQueue = new WorkQueue<Message>(consumerZk, path);
      const events: WorkQueueEvent[] = [];
      consumerQueue.events$.subscribe((event) => events.push(event));
      const handled: number[] = [];
      const consumer = await consumerQueue.consume((message) => void handled.push(message.n));
      await until(() => handled.length === 4, { message: '4 messages' });
      await expectEmpty(zk, path);
      expect(handled).toEqual([0, 1, 2, 3]);
      expect(events).toEqual([]);
      expect(lost).toBeGreaterThan(1);
      expect(combined(recorded).length).toBeGreaterThan(1);
      await consumer.stop();
      await Promise.all([queue.close(), consumerQueue.close()]);
    }
  }, 60_000);
});
