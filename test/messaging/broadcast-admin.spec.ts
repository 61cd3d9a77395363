import { describe, expect, it } from '@jest/globals';
import { BroadcastLog, InvalidOptionsError } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { collect, range, registration, type Message } from './support.js';

const connections = useTestConnections('broadcast-admin');

/** A log whose retention only runs on `compact()`, committing acks within 10 ms. */
const manualLog = (topic: string) =>
  new BroadcastLog<Message>(connections.zk, topic, {
    lingerMs: 0,
    commitIntervalMs: 10,
    retention: { auto: false },
  });

/** Resolves once `id` has committed `offset` (commits are asynchronous). */
const committed = (log: BroadcastLog<Message>, id: string, offset: number) =>
  until(async () => (await log.committedOffsets()).get(id) === offset, {
    message: `${id} to commit offset ${offset}`,
  });

describe('BroadcastLog.stats', () => {
  it('counts entries and messages and gives the first and last offset, after publishes and compactions', async () => {
    const topic = '/topics/stats';
    const log = manualLog(topic);
    expect(await log.stats()).toEqual({
      entries: 0,
      messages: 0,
      firstOffset: undefined,
      lastOffset: undefined,
    });

    // 3 batches: an array of 10, an array of 5 and a single message.
    const offsets = [
      ...(await log.publish(range(0, 10))),
      ...(await log.publish(range(10, 15))),
      ...(await log.publish({ n: 15 })),
    ];
    expect(offsets).toHaveLength(16);
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(3);
    expect(await log.stats()).toEqual({
      entries: 3,
      messages: 16,
      firstOffset: offsets[0],
      lastOffset: offsets[15],
    });

    // The only subscriber read the first batch: compaction deletes it.
    await collect(log, 'reader', 10);
    await committed(log, 'reader', offsets[9]);
    expect((await log.compact()).deletedEntries).toBe(1);
    expect(await log.stats()).toEqual({
      entries: 2,
      messages: 6,
      firstOffset: offsets[10],
      lastOffset: offsets[15],
    });

    // It read the rest: compaction keeps only the newest batch, so the end offset stays known.
    expect((await collect(log, 'reader', 6)).map((d) => d.message.n)).toEqual([
      10, 11, 12, 13, 14, 15,
    ]);
    await committed(log, 'reader', offsets[15]);
    expect((await log.compact()).deletedEntries).toBe(1);
    expect(await log.stats()).toEqual({
      entries: 1,
      messages: 1,
      firstOffset: offsets[15],
      lastOffset: offsets[15],
    });
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(1);
    expect((await log.compact()).deletedEntries).toBe(0);

    // Offsets go on growing after a compaction.
    const later = await log.publish(range(16, 20));
    expect(await log.stats()).toEqual({
      entries: 2,
      messages: 5,
      firstOffset: offsets[15],
      lastOffset: later[3],
    });
    expect(later[0]).toBeGreaterThan(offsets[15]);
    await log.close();
  });
});

describe('BroadcastLog.removeSubscriber', () => {
  it('deletes the offset of a subscriber, so retention no longer waits for it and the id starts afresh', async () => {
    const topic = '/topics/remove';
    const log = manualLog(topic);
    const offsets: number[] = [];
    for (let n = 0; n < 20; n += 5) offsets.push(...(await log.publish(range(n, n + 5)))); // 4 batches
    await collect(log, 'active', 20);
    await collect(log, 'gone', 5); // through the first batch, then never again
    await committed(log, 'active', offsets[19]);
    await committed(log, 'gone', offsets[4]);

    // 'gone' holds the last 3 batches.
    expect((await log.compact()).deletedEntries).toBe(1);
    expect((await log.stats()).entries).toBe(3);

    await log.removeSubscriber('gone');
    expect([...(await log.committedOffsets()).keys()]).toEqual(['active']);
    expect(await connections.zk.getChildren(`${topic}/offsets`)).toEqual(['active']);

    // The id registers again as a new subscriber: from 'latest' it starts after the log's end,
    // not after its old offset (which would deliver #5 first).
    const registered = registration(log, 'gone');
    const again = collect(log, 'gone', 5, { from: 'latest' });
    await registered;
    await log.publish(range(20, 25));
    expect((await again).map((d) => d.message.n)).toEqual([20, 21, 22, 23, 24]);

    // Retention waits for 'active' (through #19) only: the 3 batches go, the new one stays.
    const result = await log.compact();
    expect(result).toMatchObject({ deletedEntries: 3, minCommittedOffset: offsets[19] });
    expect(await log.stats()).toMatchObject({ entries: 1, messages: 5 });

    // Idempotent, also for an id that never subscribed; an invalid id is refused.
    await log.removeSubscriber('active');
    await log.removeSubscriber('active');
    await log.removeSubscriber('never-subscribed');
    await expect(log.removeSubscriber('not/valid')).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(await connections.zk.getChildren(`${topic}/offsets`)).toEqual(['gone']);
    await log.close();
  });
});
