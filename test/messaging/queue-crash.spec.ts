import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ZookeeperConnection } from 'nestjs-zookeeper';
import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { WorkQueue } from '../../libs/zookeeper/src/messaging/index.js';
import { silentLogger } from '../support/connect.js';
import { FixtureProcess, sleep } from './support.js';

// Kills a consumer and restarts its own server, away from the other test files. The publisher
// is a process too: this process only opens a connection once the server is back.
let server: ZookeeperTestingServer;
const NAMESPACE = '/queue-crash';
const PATH = '/queues/crash';
const TOTAL = 5000;

beforeAll(async () => {
  server = await ZookeeperTestingServer.start();
});
afterAll(() => server.close());

/** The n of each "<n> <item>:<index>" line of a consumer process. */
function handled(process: FixtureProcess): number[] {
  return process.lines
    .filter((line) => /^\d+ /.test(line))
    .map((line) => Number(line.split(' ')[0]));
}

describe('work queue with consumer processes (own server)', () => {
  it('3 consumer processes, one killed with SIGKILL, and a server restart: none of 5,000 lost', async () => {
    const args = [server.connectString, NAMESPACE, PATH];
    const consumers = [1, 2, 3].map(
      () => new FixtureProcess('test/messaging/fixtures/queue-consumer.ts', [...args, '2']),
    );
    await Promise.all(consumers.map((c) => c.until((lines) => lines.includes('ready'), 'ready')));
    const victim = consumers[2];
    const total = () => consumers.reduce((sum, c) => sum + handled(c).length, 0);

    const started = Date.now();
    const publisher = new FixtureProcess('test/messaging/fixtures/queue-publisher.ts', [
      ...args,
      String(TOTAL),
    ]);
    while (total() < 1000) await sleep(10);
    await server.stop();
    await server.start();
    while (handled(victim).length < 1200) await sleep(10);
    victim.kill('SIGKILL');
    await victim.exited;
    const victimHandled = new Set(handled(victim));
    await publisher.until((lines) => lines.includes('done'), 'the publisher', 60_000);

    const zk = await ZookeeperConnection.connect({
      connectString: server.connectString,
      namespace: NAMESPACE,
      logger: silentLogger,
    });
    const queue = new WorkQueue<{ n: number }>(zk, PATH);
    const distinct = () => new Set(consumers.flatMap(handled)).size;
    const deadline = Date.now() + 60_000;
    while ((distinct() < TOTAL || (await queue.pendingItems()) > 0) && Date.now() < deadline) {
      await sleep(100);
    }
    const elapsed = Date.now() - started;
    const pending = await queue.pendingItems();
    await zk.close();
    for (const consumer of consumers.slice(0, 2)) consumer.kill('SIGTERM');
    await Promise.all(consumers.map((c) => c.exited));

    const all = consumers.flatMap(handled);
    const seen = new Set(all);
    expect(Array.from({ length: TOTAL }, (_, n) => n).filter((n) => !seen.has(n))).toEqual([]);
    expect(pending).toBe(0);
    const counts = new Map<number, number>();
    for (const n of all) counts.set(n, (counts.get(n) ?? 0) + 1);
    const duplicates = [...counts].filter(([, count]) => count > 1).map(([n]) => n);
    // Only the killed consumer's unfinished items run twice: each duplicate was one it handled.
    expect(duplicates.filter((n) => !victimHandled.has(n))).toEqual([]);
    expect([...counts.values()].every((count) => count <= 2)).toBe(true);
    console.log(
      `queue: ${TOTAL} messages through 3 consumer processes (a server restart, one consumer ` +
        `SIGKILLed after ${victimHandled.size}) in ${elapsed} ms; split ` +
        `${consumers.map((c) => handled(c).length).join('/')}; ${duplicates.length} duplicate(s), ` +
        `all from the killed consumer's in-flight items; 0 lost`,
    );
  }, 120_000);
});
