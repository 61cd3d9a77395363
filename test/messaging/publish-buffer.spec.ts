import { describe, expect, it } from '@jest/globals';
import {
  BroadcastLog,
  ConnectionLossError,
  PublishBufferFullError,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { collect, range, type Message } from './support.js';

const connections = useTestConnections('publish-buffer');

/**
 * Holds the creates under `folder` of `zk` (the batch appends) until the test settles them: each
 * held create waits for `release(i)` / `fail(i, error)`.
 */
function holdAppends(zk: ZookeeperConnection, folder: string) {
  const create = zk.create.bind(zk);
  const held: Array<{ go: () => void; fail: (error: unknown) => void }> = [];
  zk.create = (async (path, data, options) => {
    if (path.startsWith(`${folder}/`)) {
      await new Promise<void>((go, fail) => held.push({ go, fail }));
    }
    return create(path, data, options);
  }) as typeof zk.create;
  return { held, restore: () => (zk.create = create) };
}

describe('publishing while ZooKeeper does not take the writes', () => {
  it('a publish that would take the unwritten bytes above maxPendingBytes fails at once with PublishBufferFullError', async () => {
    const zk = await connections.open();
    const topic = '/topics/buffer-full';
    const log = new BroadcastLog<string>(zk, topic, { lingerMs: 0, maxPendingBytes: 10_000 });
    await log.publish('first'); // the folders exist
    const appends = holdAppends(zk, `${topic}/log`);
    const text = 'x'.repeat(4000);
    const inFlight = log.publish(text); // being written, held
    await until(() => appends.held.length === 1, { message: 'the first batch to be written' });
    const queued = log.publish(text); // queued behind it: 8,000 bytes and more pending
    const started = Date.now();
    const refused = await log.publish(text).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PublishBufferFullError);
    expect(refused).toMatchObject({ maxPendingBytes: 10_000 });
    expect(Date.now() - started).toBeLessThan(100);

    appends.restore();
    appends.held[0].go();
    await Promise.all([inFlight, queued]);
    await log.publish(text); // room again
    expect((await log.stats()).messages).toBe(4);
    await log.close();
  });

  it('after a failed batch, the publishes queued behind it fail with the same error, so a retry keeps publish order', async () => {
    const zk = await connections.open();
    const topic = '/topics/order-on-failure';
    const log = new BroadcastLog<Message>(zk, topic, { lingerMs: 0 });
    await log.flush();
    await log.publish({ n: -1 }); // the folders exist
    const appends = holdAppends(zk, `${topic}/log`);
    const a = log.publish(range(0, 10)).catch((error: unknown) => error);
    await until(() => appends.held.length === 1, { message: 'the first batch to be written' });
    const b = log.publish(range(10, 20)).catch((error: unknown) => error);
    const c = log.publish(range(20, 30)).catch((error: unknown) => error);
    const lost = new ConnectionLossError({ operation: 'create' });
    appends.held[0].fail(lost);
    expect(await a).toBe(lost);
    expect(await b).toBe(lost);
    expect(await c).toBe(lost);
    appends.restore();
    expect((await log.stats()).messages).toBe(1); // nothing after the failed batch was written

    // The caller retries in its order, then goes on.
    await log.publish(range(0, 10));
    await log.publish(range(10, 20));
    await log.publish(range(20, 30));
    expect((await collect(log, 'reader', 31)).map((d) => d.message.n)).toEqual([
      -1,
      ...range(0, 30).map((m) => m.n),
    ]);
    await log.close();
  });

  it('the work queue shares both: a full buffer refuses, a failed batch fails those behind it', async () => {
    const zk = await connections.open();
    const path = '/queues/buffer';
    const queue = new WorkQueue<string>(zk, path, { lingerMs: 0, maxPendingBytes: 10_000 });
    await queue.publish('first');
    const appends = holdAppends(zk, `${path}/items`);
    const text = 'x'.repeat(4000);
    const a = queue.publish(text).catch((error: unknown) => error);
    await until(() => appends.held.length === 1, { message: 'the first batch to be written' });
    const b = queue.publish(text).catch((error: unknown) => error);
    expect(await queue.publish(text).catch((error: unknown) => error)).toBeInstanceOf(
      PublishBufferFullError,
    );
    const lost = new ConnectionLossError({ operation: 'create' });
    appends.held[0].fail(lost);
    expect(await a).toBe(lost);
    expect(await b).toBe(lost);
    appends.restore();
    await queue.publish(text);
    await queue.close();
  });
});
