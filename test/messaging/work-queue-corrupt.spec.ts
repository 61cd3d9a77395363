// A work queue under data written by something else (the default ACL is open): items that are no
// batch, batches of zero messages or of another count than their name, progress records that
// are no progress. Each such item goes to the dead letters whole (its raw bytes kept), with an
// `item-corrupt` event; no message is deleted unprocessed and the queue keeps flowing.
import { describe, expect, it } from '@jest/globals';
import { CreateMode, WorkQueue, WorkQueueEvent } from 'nestjs-zookeeper';
import { encodeBatch } from '../../libs/zookeeper/src/messaging/shared/message-batch.js';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { range, type Message } from './support.js';

const connections = useTestConnections('queue-corrupt');

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Writes an item the way a foreign writer would; returns its name. */
async function foreignItem(
  queue: { paths: { items: string } },
  prefix: string,
  bytes: Buffer,
): Promise<string> {
  const path = await connections.zk.create(`${queue.paths.items}/${prefix}`, bytes, {
    mode: CreateMode.PERSISTENT_SEQUENTIAL,
  });
  return path.slice(path.lastIndexOf('/') + 1);
}

function corruptEvents(events: WorkQueueEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'item-corrupt' ? [event.item] : []));
}

describe('work queue: corrupt data from a foreign writer', () => {
  it('dead-letters items of arbitrary bytes whole, with item-corrupt, and handles the messages after them', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/corrupt-bytes');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.pendingItems(); // prepared: items/ exists
    const garbage = [
      Buffer.from('not a batch at all'),
      Buffer.alloc(0),
      Buffer.from('ZMB1'),
      encodeBatch([json({ n: -1 })]).subarray(0, 12), // cut short
      Buffer.from([0xff, 0x00, 0x13, 0x37, 0, 0, 0, 9]),
    ];
    const names: string[] = [];
    // More than the 8 to 10 that used to stall a consumer.
    for (let round = 0; round < 3; round++) {
      for (const bytes of garbage) names.push(await foreignItem(queue, 'm1-', bytes));
    }
    const handled: number[] = [];
    await queue.consume((message) => void handled.push(message.n));
    await queue.publish(range(0, 5));
    for (const message of range(5, 10)) await queue.publish(message);
    await until(() => handled.length >= 10, { message: '10 valid messages', timeoutMs: 10_000 });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(handled).toEqual(range(0, 10).map((m) => m.n));
    expect(corruptEvents(events).sort()).toEqual([...names].sort());

    const letters = await queue.deadLetters();
    expect(letters.map((letter) => letter.item).sort()).toEqual([...names].sort());
    for (const letter of letters) {
      const index = names.indexOf(letter.item);
      expect(letter.payload.equals(garbage[index % garbage.length])).toBe(true);
      expect(letter).toMatchObject({ message: undefined, replayable: false, wholeItem: true });
      expect(letter.unreadable).toMatch(/batch/);
      expect(letter.error).toMatch(/corrupt item/);
    }
    // Nothing to replay in them: left for discard.
    expect(await queue.replay()).toBe(0);
    await queue.discard(letters.map((letter) => letter.id));
    expect(await queue.deadLetters()).toEqual([]);
    await queue.close();
  });

  it('moves an item of zero messages out of the way and goes on with the next one', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/corrupt-empty');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.pendingItems();
    const handled: number[] = [];
    await queue.consume((message) => void handled.push(message.n));
    const empty = await foreignItem(queue, 'm0-', encodeBatch([]));
    await queue.publish({ n: 1 });
    await until(() => handled.length >= 1, { message: 'the message after the empty item' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(handled).toEqual([1]);
    expect(corruptEvents(events)).toEqual([empty]);
    const letters = await queue.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ item: empty, wholeItem: true, replayable: false });
    expect(letters[0].error).toMatch(/no message/);
    await queue.close();
  });

  it('dead-letters an item whose count differs from its name whole, and a replay publishes its messages', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/corrupt-count');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.pendingItems();
    const handled: number[] = [];
    const wrong = await foreignItem(
      queue,
      'm5-',
      encodeBatch([json({ n: 100 }), json({ n: 101 })]),
    );
    const huge = await foreignItem(queue, 'm99999999999-', encodeBatch([json({ n: 102 })]));
    await queue.consume((message) => void handled.push(message.n));
    await queue.publish({ n: 1 });
    await until(() => handled.includes(1), { message: 'the message after the corrupt items' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(handled).toEqual([1]); // never run from an item that is not what its name says
    expect(corruptEvents(events)).toEqual([wrong, huge]);
    const letters = await queue.deadLetters();
    expect(letters.map((letter) => letter.item)).toEqual([wrong, huge]);
    expect(letters[0]).toMatchObject({ replayable: true, wholeItem: true, message: undefined });
    expect(letters[0].error).toMatch(/2 messages.*5|5.*2 messages/);
    // The messages are intact: a replay of the two letters publishes each of them.
    expect(await queue.replay()).toBe(2);
    await until(() => handled.length >= 4, { message: 'the replayed messages' });
    expect(handled.sort((a, b) => a - b)).toEqual([1, 100, 101, 102]);
    await queue.close();
  });

  it('dead-letters an item whose progress record is corrupt, none of its messages skipped or deleted unprocessed', async () => {
    const queue = new WorkQueue<Message>(connections.zk, '/queues/corrupt-progress');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.pendingItems();
    const records = [
      'not json',
      '{"next":"NaN","attempts":0}',
      '{"next":-1,"attempts":0}',
      '{"next":7,"attempts":0}',
      '{"next":1.5,"attempts":0}',
      '{"next":0,"attempts":"many"}',
      'null',
      '[1,2]',
    ];
    const names: string[] = [];
    for (const [at, record] of records.entries()) {
      const batch = encodeBatch(range(at * 3, at * 3 + 3).map(json));
      const name = await foreignItem(queue, 'm3-', batch);
      await connections.zk.create(`${queue.paths.progress}/${name}`, record);
      names.push(name);
    }
    // A valid progress record is followed as ever: the first message is done.
    const valid = await foreignItem(queue, 'm3-', encodeBatch(range(90, 93).map(json)));
    await connections.zk.create(`${queue.paths.progress}/${valid}`, '{"next":1,"attempts":0}');
    const handled: number[] = [];
    await queue.consume((message) => void handled.push(message.n));
    await queue.publish({ n: 1000 });
    await until(() => handled.includes(1000), { message: 'the message after the corrupt items' });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    expect(handled).toEqual([91, 92, 1000]);
    expect(corruptEvents(events)).toEqual(names);
    const letters = await queue.deadLetters();
    expect(letters.map((letter) => letter.item)).toEqual(names);
    for (const letter of letters) {
      expect(letter).toMatchObject({ replayable: true, wholeItem: true });
      expect(letter.error).toMatch(/progress/);
    }
    expect(await connections.zk.getChildren(queue.paths.progress)).toEqual([]);
    // Every message of them is kept: a replay of the 8 letters runs all 24.
    expect(await queue.replay()).toBe(records.length);
    await until(() => handled.length >= 3 + records.length * 3, { message: 'the replay' });
    expect(handled.slice(3).sort((a, b) => a - b)).toEqual(
      range(0, records.length * 3).map((m) => m.n),
    );
    await queue.close();
  });
});
