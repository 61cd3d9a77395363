import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { BroadcastLog, BroadcastLogEvent, ConnectionState } from 'nestjs-zookeeper';
import { nextState } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import { firstMatch, until } from '../support/until.js';

// Stops and restarts its own server, away from the other test files.
const dedicated = new DedicatedServer();
const open = () => dedicated.connect({ sessionTimeoutMs: 6000, retry: { deadlineMs: 30_000 } });

describe('broadcast log across a server restart (own server)', () => {
  it('loses nothing and delivers each message once, in order, when the server restarts mid-stream', async () => {
    const TOTAL = 3000;
    const topic = '/topics/restart';
    const [publisherZk, zkA, zkB] = await Promise.all([open(), open(), open()]);
    const publisher = new BroadcastLog<{ n: number }>(publisherZk, topic, { lingerMs: 2 });
    const readers = [
      new BroadcastLog<{ n: number }>(zkA, topic),
      new BroadcastLog<{ n: number }>(zkB, topic),
    ];
    const received: number[][] = [[], []];
    const registered = readers.map((reader, index) =>
      firstMatch(reader.events$, (event: BroadcastLogEvent) => event.type === 'registered', {
        message: `reader-${index} to register`,
        timeoutMs: 20_000,
      }),
    );
    const done = readers.map(
      (reader, index) =>
        new Promise<void>((resolve, reject) =>
          reader.deliveries(`reader-${index}`, { autoAck: true }).subscribe({
            next: ({ message }) => {
              received[index].push(message.n);
              if (message.n === TOTAL - 1) resolve();
            },
            error: reject,
          }),
        ),
    );
    await Promise.all(registered);

    const started = Date.now();
    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n += 50) {
        await publisher.publish(Array.from({ length: 50 }, (_, i) => ({ n: n + i })));
        await delay(10); // pacing: the stream is still running when the server stops
      }
    })();
    await until(() => received[0].length >= 1000, { message: 'reader-0 to pass 1000 messages' });
    // The outage lasts until every client has noticed it.
    const suspended = [publisherZk, zkA, zkB].map((zk) => nextState(zk, ConnectionState.SUSPENDED));
    await dedicated.server.stop();
    await Promise.all(suspended);
    await dedicated.server.start();
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
