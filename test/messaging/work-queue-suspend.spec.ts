// A queue consumer cut off from ZooKeeper (its server paused: SUSPENDED, the session perhaps
// still alive) may already have lost its items' locks on the server; it starts no new message
// until the connection is back, and goes on once it is back with the same session.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { ConnectionState, WorkQueue, WorkQueueEvent } from 'nestjs-zookeeper';
import { nextState } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';
import { range, type Message } from './support.js';

const dedicated = new DedicatedServer();

describe('work queue consumer while SUSPENDED', () => {
  it('starts no message of a held item while suspended, and finishes the item once reconnected', async () => {
    const TOTAL = 300; // 15 s of work: more than it takes to notice the pause
    const zk = await dedicated.connect({ sessionTimeoutMs: 10_000 });
    const queue = new WorkQueue<Message>(zk, '/queues/suspend');
    const events: WorkQueueEvent[] = [];
    queue.events$.subscribe((event) => events.push(event));
    await queue.publish(range(0, TOTAL)); // one item
    const starts: Array<{ n: number; at: number }> = [];
    // No progress write between messages: nothing else waits for the server.
    await queue.consume({ progressIntervalMs: 600_000 }, async (message) => {
      starts.push({ n: message.n, at: Date.now() });
      await delay(50);
    });
    await until(() => starts.length >= 20, { message: '20 messages started' });

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    dedicated.server.pause();
    let resumed = false;
    try {
      await suspended;
      const suspendedAt = Date.now();
      const before = starts.length;
      await delay(1000);
      expect(starts.length).toBe(before);
      expect(starts.filter((start) => start.at > suspendedAt)).toEqual([]);
      const reconnected = nextState(zk, ConnectionState.RECONNECTED);
      dedicated.server.resume();
      resumed = true;
      await reconnected;
    } finally {
      if (!resumed) dedicated.server.resume();
    }
    await until(() => new Set(starts.map((start) => start.n)).size >= TOTAL, {
      message: `all ${TOTAL} messages after the reconnection`,
    });
    await until(async () => (await queue.pendingItems()) === 0, { message: 'an empty queue' });
    // The same session: the item was never abandoned nor started over.
    expect(events.filter((event) => event.type === 'item-abandoned')).toEqual([]);
    expect(starts.map((start) => start.n)).toEqual(range(0, TOTAL).map((m) => m.n));
    await queue.close();
  }, 60_000);
});
