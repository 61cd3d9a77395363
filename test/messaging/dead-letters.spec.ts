// Dead letters under hostile or extreme data: one bad record never breaks the listing of the
// others, and a dead letter is always small enough to be stored.
import { describe, expect, it } from '@jest/globals';
import { CreateMode, WorkQueue } from 'nestjs-zookeeper';
import { encodeBatch } from '../../libs/zookeeper/src/messaging/shared/message-batch.js';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = useTestConnections('dead-letters');

/** JSON that throws on bytes that are not JSON (the default one hands them over as a Buffer). */
const strictJson = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8')),
};

describe('dead letters', () => {
  it('lists every readable letter when others are corrupt or undeserializable, each marked, and replays only what can be replayed', async () => {
    const path = '/queues/hostile-dead';
    const queue = new WorkQueue<{ n: number }>(connections.zk, path, { serializer: strictJson });
    await queue.publish({ n: 1 });
    const consumer = await queue.consume({ maxAttempts: 1 }, (message) => {
      throw new Error(`cannot handle ${message.n}`);
    });
    await until(async () => (await queue.deadLetters()).length === 1, {
      message: 'the first dead letter',
    });
    // A foreign writer (the default ACL is open): a record that is no batch at all, and a
    // well-formed letter whose payload is no JSON.
    const dead = `${path}/dead/dead-`;
    const sequential = { mode: CreateMode.PERSISTENT_SEQUENTIAL };
    await connections.zk.create(dead, 'garbage', sequential);
    const metadata = { error: 'Error: bad', attempts: 1, item: 'x', index: 0, failedAt: 1 };
    await connections.zk.create(
      dead,
      encodeBatch([Buffer.from('{not json'), Buffer.from(JSON.stringify(metadata))]),
      sequential,
    );

    const letters = await queue.deadLetters();
    expect(letters).toHaveLength(3);
    expect(letters[0]).toMatchObject({ message: { n: 1 }, attempts: 1 });
    expect(letters[0].unreadable).toBeUndefined();
    expect(letters[1]).toMatchObject({ message: undefined, replayable: false });
    expect(letters[1].unreadable).toMatch(/batch/);
    expect(letters[2]).toMatchObject({ message: undefined, replayable: true, attempts: 1 });
    expect(letters[2].unreadable).toMatch(/JSON|deserializ/i);
    expect(letters[2].payload.toString()).toBe('{not json');

    // Stopped first: the payload that is no JSON, replayed, would fail again at once and come
    // back as a new dead letter (a fast consumer did that before the listing below).
    await consumer.stop();
    // The corrupt record stays (nothing to replay from it); the other two go back to the queue.
    expect(await queue.replay()).toBe(2);
    const left = await queue.deadLetters();
    expect(left.map((letter) => letter.id)).toEqual([letters[1].id]);
    await queue.discard([letters[1].id]);
    await queue.close();
  });

  it('stores a dead letter of a near-limit message with a huge error, its error text truncated', async () => {
    const path = '/queues/oversize-dead';
    const queue = new WorkQueue<string>(connections.zk, path, { lingerMs: 0 });
    // One message close to the batch limit, and a handler error bigger than a whole frame.
    const big = 'm'.repeat(890_000);
    await queue.publish(big);
    await queue.publish('next');
    const handled: string[] = [];
    await queue.consume({ maxAttempts: 1 }, (message) => {
      if (message === big) throw new Error('x'.repeat(2_000_000));
      handled.push(message);
    });
    await until(() => handled.includes('next'), { message: 'the message after the dead one' });
    const [letter] = await queue.deadLetters();
    expect(letter.message).toBe(big);
    expect(letter.error.length).toBeLessThan(100_000);
    expect(letter.error).toMatch(/^Error: x+… \(\d+ characters truncated\)$/);
    await queue.close();
  });
});
