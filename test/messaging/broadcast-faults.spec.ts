import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ZookeeperConnection } from 'nestjs-zookeeper';
import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { BroadcastLog } from '../../libs/zookeeper/src/messaging/index.js';
import { silentLogger } from '../support/connect.js';
import { sleep } from './support.js';

// Stops and restarts its own server, away from the other test files.
let server: ZookeeperTestingServer;
const opened: ZookeeperConnection[] = [];

async function open(): Promise<ZookeeperConnection> {
  const connection = await ZookeeperConnection.connect({
    connectString: server.connectString,
    sessionTimeoutMs: 6000,
    logger: silentLogger,
    retry: { deadlineMs: 30_000 },
  });
  opened.push(connection);
  return connection;
}

beforeAll(async () => {
  server = await ZookeeperTestingServer.start();
});
afterAll(async () => {
  await Promise.all(opened.map((connection) => connection.close()));
  await server.close();
});

describe('broadcast log across a server restart (own server)', () => {
  it('loses nothing and delivers each message once, in order, when the server restarts mid-stream', async () => {
    const TOTAL = 3000;
    const topic = '/topics/restart';
    const [publisherZk, zkA, zkB] = await Promise.all([open(), open(), open()]);
    const publisher = new BroadcastLog<{ n: number }>(publisherZk, topic, { lingerMs: 2 });
    const readers = [new BroadcastLog<{ n: number }>(zkA, topic), new BroadcastLog(zkB, topic)];
    const received: number[][] = [[], []];
    const done = readers.map(
      (reader, index) =>
        new Promise<void>((resolve, reject) =>
          (reader as BroadcastLog<{ n: number }>)
            .deliveries(`reader-${index}`, { autoAck: true })
            .subscribe({
              next: ({ message }) => {
                received[index].push(message.n);
                if (message.n === TOTAL - 1) resolve();
              },
              error: reject,
            }),
        ),
    );
    while ((await publisherZk.getChildren(`${topic}/clients`).catch(() => [])).length < 2) {
      await sleep(50);
    }

    const started = Date.now();
    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n += 50) {
        await publisher.publish(Array.from({ length: 50 }, (_, i) => ({ n: n + i })));
        await sleep(10);
      }
    })();
    while (received[0].length < 1000) await sleep(20);
    await server.stop();
    await sleep(1000);
    await server.start();
    await publishing;
    await Promise.all(done);

    const expected = Array.from({ length: TOTAL }, (_, n) => n);
    expect(received[0]).toEqual(expected);
    expect(received[1]).toEqual(expected);
    console.log(
      `broadcast: ${TOTAL} messages to 2 subscribers across a server restart in ${Date.now() - started} ms, ` +
        'none lost, none duplicated',
    );
    await Promise.all([publisher.close(), ...readers.map((reader) => reader.close())]);
  }, 90_000);
});
