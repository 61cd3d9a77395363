import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { BroadcastLog } from 'nestjs-zookeeper';
import { testConnectString, useTestConnections } from '../support/connect.js';
import { FixtureProcess, received } from './support.js';

const connections = useTestConnections('broadcast-crash');

const TOTAL = 5000;
const FIXTURE = 'test/messaging/fixtures/broadcast-subscriber.ts';
afterAll(() => FixtureProcess.stopAll());

describe('broadcast log with subscriber processes', () => {
  it('1 publisher, 3 subscriber processes, one killed with SIGKILL and restarted: each gets all 5,000 in order', async () => {
    const topic = '/topics/crash';
    const start = (id: string) =>
      new FixtureProcess(FIXTURE, [
        testConnectString(),
        connections.namespace,
        topic,
        id,
        String(TOTAL - 1),
      ]);
    const subscribers = { a: start('a'), b: start('b'), c: start('c') };
    await Promise.all(
      Object.values(subscribers).map((p) => p.until((l) => l.includes('ready'), 'ready')),
    );

    const log = new BroadcastLog<{ n: number }>(connections.zk, topic, { lingerMs: 2 });
    const started = Date.now();
    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n += 50) {
        await log.publish(Array.from({ length: 50 }, (_, i) => ({ n: n + i })));
        await delay(10); // pacing: the kill falls mid-stream
      }
    })();

    // Kill c mid-stream, then start it again under the same id.
    await subscribers.c.until((l) => received(l).length >= 1500, 'c to pass 1500 messages');
    subscribers.c.kill('SIGKILL');
    await subscribers.c.exited;
    const killedRun = received(subscribers.c.lines);
    const restarted = start('c');

    await publishing;
    const publishedIn = Date.now() - started;
    const codes = await Promise.all([subscribers.a.exited, subscribers.b.exited, restarted.exited]);
    const elapsed = Date.now() - started;
    expect(codes).toEqual([0, 0, 0]);

    const expected = Array.from({ length: TOTAL }, (_, n) => n);
    for (const id of ['a', 'b'] as const) {
      const run = received(subscribers[id].lines);
      expect(run.map((m) => m.n)).toEqual(expected);
      expect(isIncreasing(run.map((m) => m.offset))).toBe(true);
    }
    const secondRun = received(restarted.lines);
    const lastBeforeKill = killedRun[killedRun.length - 1].n;
    const resumedAt = secondRun[0].n;
    // Never skips: the second run starts at or before the message after the last one printed.
    expect(resumedAt).toBeLessThanOrEqual(lastBeforeKill + 1);
    expect(killedRun.map((m) => m.n)).toEqual(expected.slice(0, killedRun.length));
    expect(secondRun.map((m) => m.n)).toEqual(expected.slice(resumedAt));
    const duplicates = lastBeforeKill + 1 - resumedAt;
    expect(new Set([...killedRun, ...secondRun].map((m) => m.n)).size).toBe(TOTAL);

    console.log(
      `broadcast: ${TOTAL} messages to 3 subscriber processes, published in ${publishedIn} ms, ` +
        `all delivered in ${elapsed} ms (${Math.round((3 * TOTAL * 1000) / elapsed)} deliveries/s); ` +
        `killed subscriber had printed ${killedRun.length}, resumed at #${resumedAt}: ` +
        `${duplicates} duplicate(s) after its restart, 0 for the others`,
    );
    await log.close();
  }, 120_000);
});

function isIncreasing(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || value > values[index - 1]);
}
