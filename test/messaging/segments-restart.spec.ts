import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { BroadcastLog, BroadcastLogEvent, ConnectionState, WorkQueue } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { nextState } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import { firstMatch, until } from '../support/until.js';
import { batchOf, describeSegments, expectEachWriterInOrder, Sent } from './segment-support.js';

// Rolls over again and again while its own server restarts and a session expires.
const dedicated = new DedicatedServer();
const open = () => dedicated.connect({ sessionTimeoutMs: 6000, retry: { deadlineMs: 30_000 } });
const segments = { rolloverAt: 4 };

describe('segments across a server restart and a session expiry (own server)', () => {
  it('a log rolling over many times loses nothing and keeps each writer in order while the server restarts and a reader’s session expires', async () => {
    const PER_WRITER = 400;
    const topic = '/topics/rolling';
    const [zkA, zkB, reader0Zk, reader1Zk] = await Promise.all([open(), open(), open(), open()]);
    const writers = [
      { name: 'a', log: new BroadcastLog<Sent>(zkA, topic, { lingerMs: 0, segments }) },
      { name: 'b', log: new BroadcastLog<Sent>(zkB, topic, { lingerMs: 0, segments }) },
    ];
    let rolls = 0;
    // For a failure message: where each batch landed, who rolled what, the connections' states.
    const started = Date.now();
    const at = () => `${Date.now() - started}ms`;
    const landed: Record<string, string[]> = { a: [], b: [] };
    const history: string[] = [];
    [zkA, zkB, reader0Zk, reader1Zk].forEach((zk, index) =>
      zk.state$.subscribe((state) =>
        history.push(`${at()} ${['a', 'b', 'r0', 'r1'][index]} ${state}`),
      ),
    );
    for (const { name, log } of writers) {
      log.events$.subscribe((event) => {
        if (event.type === 'segment-rolled') rolls++;
        if (event.type === 'segment-rolled' || event.type === 'rollover-failed') {
          history.push(`${at()} ${name} ${event.type} ${event.folder}`);
        }
      });
    }
    const readers = [reader0Zk, reader1Zk].map((zk) => new BroadcastLog<Sent>(zk, topic));
    const received: Sent[][] = [[], []];
    const offsets: number[][] = [[], []];
    const registered = readers.map((reader, index) =>
      firstMatch(reader.events$, (event: BroadcastLogEvent) => event.type === 'registered', {
        message: `reader-${index} to register`,
        timeoutMs: 20_000,
      }),
    );
    readers.forEach((reader, index) =>
      reader.deliveries(`reader-${index}`, { autoAck: true }).subscribe({
        next: ({ offset, message }) => {
          received[index].push(message);
          offsets[index].push(offset);
        },
      }),
    );
    await Promise.all(registered);
    const publishing = Promise.all(
      writers.map(async ({ name, log }) => {
        for (let n = 0; n < PER_WRITER; n += 10) {
          const [offset] = await log.publish(
            Array.from({ length: 10 }, (_, i) => ({ writer: name, n: n + i })),
          );
          landed[name].push(batchOf(offset));
          await delay(5);
        }
      }),
    );
    await until(() => received[0].length >= 150, { message: 'reader-0 past 150 messages' });
    const suspended = [zkA, zkB, reader0Zk, reader1Zk].map((zk) =>
      nextState(zk, ConnectionState.SUSPENDED),
    );
    await dedicated.server.stop();
    await Promise.all(suspended);
    await dedicated.server.start();
    await until(() => received[1].length >= 400, { message: 'reader-1 past 400 messages' });
    await expireSession(reader1Zk);
    await publishing;
    const total = writers.length * PER_WRITER;
    await until(() => received.every((messages) => messages.length >= total), {
      message: () => `received ${received.map((messages) => messages.length).join(' / ')}`,
      timeoutMs: 60_000,
    }).catch(async (error: Error) => {
      const last = offsets.map((list) => (list.length > 0 ? batchOf(list.at(-1)!) : 'none'));
      throw new Error(
        [
          `${error.message}; last batch delivered (segment:sequence) ${last.join(' / ')}`,
          'segments on the server:',
          await describeSegments(writers[0].log.segments),
          `writer a's batches: ${landed.a.join(' ')}`,
          `writer b's batches: ${landed.b.join(' ')}`,
          ...history,
        ].join('\n'),
      );
    });
    await delay(300); // nothing more may come
    for (const index of [0, 1]) {
      expectEachWriterInOrder(received[index], { a: PER_WRITER, b: PER_WRITER });
      for (let i = 1; i < offsets[index].length; i++) {
        expect(offsets[index][i]).toBeGreaterThan(offsets[index][i - 1]);
      }
    }
    // Both readers saw one log: the same offsets in the same order.
    expect(offsets[1]).toEqual(offsets[0]);
    // (Retention removes the segments both readers passed, so the count is of the rolls.)
    expect(rolls).toBeGreaterThan(10);
    await Promise.all([...writers.map(({ log }) => log.close()), ...readers.map((r) => r.close())]);
  }, 120_000);

  it('a queue rolling over many times gets every item done across a server restart', async () => {
    const PER_WRITER = 200;
    const path = '/queues/rolling';
    const [zkA, zkB, consumerZk] = await Promise.all([open(), open(), open()]);
    const writers = [zkA, zkB].map(
      (zk) => new WorkQueue<Sent>(zk, path, { lingerMs: 0, segments }),
    );
    const handled = new Set<string>();
    const consumer = await new WorkQueue<Sent>(consumerZk, path, { segments }).consume(
      { concurrency: 2 },
      ({ writer, n }) => void handled.add(`${writer}:${n}`),
    );
    const publishing = Promise.all(
      writers.map(async (queue, w) => {
        for (let n = 0; n < PER_WRITER; n += 5) {
          await queue.publish(Array.from({ length: 5 }, (_, i) => ({ writer: `${w}`, n: n + i })));
          await delay(5);
        }
      }),
    );
    await until(() => handled.size >= 100, { message: 'past 100 handled' });
    const suspended = [zkA, zkB, consumerZk].map((zk) => nextState(zk, ConnectionState.SUSPENDED));
    await dedicated.server.stop();
    await Promise.all(suspended);
    await dedicated.server.start();
    await publishing;
    await until(() => handled.size >= 2 * PER_WRITER, {
      message: () => `handled ${handled.size}`,
      timeoutMs: 60_000,
    });
    await until(async () => (await writers[0].pendingItems()) === 0, { message: 'queue empty' });
    expect(handled.size).toBe(2 * PER_WRITER);
    await consumer.stop();
    await Promise.all(writers.map((queue) => queue.close()));
  }, 120_000);
});
