// A session must always be able to reconnect with its watches. The native driver registers them
// again in one SetWatches packet, and a packet above the server's frame limit (jute.maxbuffer, 1 MiB
// by default) makes every reconnect fail: that driver refuses a watch past the limit instead. The
// wire driver splits the packet and takes them all.
import { describe, expect, it } from '@jest/globals';
import { ConnectionState, WatchEvent, WatchEventType, WatchLimitError } from 'nestjs-zookeeper';
import { DedicatedServer } from '../support/dedicated-server.js';
import { statesUntil } from '../support/connect.js';
import { until } from '../support/until.js';

const dedicated = new DedicatedServer();
/** Long names: about 1,150 watches on absent nodes fill one frame. */
const pathOf = (i: number) => `/watched/${'w'.repeat(900)}-${i}`;
const WATCHES = 1400;

describe('watches and reconnects (own server)', () => {
  it('keeps a session able to reconnect with its watches, however many paths it watches', async () => {
    const zk = await dedicated.connect({ sessionTimeoutMs: 20_000 });
    const writer = await dedicated.connect();
    await writer.mkdirp('/watched');
    const fired: WatchEvent[] = [];
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < WATCHES && !refused; i++) {
      try {
        await zk.exists(pathOf(i), { watch: (event) => fired.push(event) });
        accepted++;
      } catch (error) {
        refused = error;
      }
    }
    if (zk.driver === 'native') {
      expect(refused).toBeInstanceOf(WatchLimitError);
      expect((refused as WatchLimitError).message).toMatch(/SetWatches.*wire driver/s);
      expect(accepted).toBeGreaterThan(1000);
      expect(accepted).toBeLessThan(WATCHES);
    } else {
      expect(refused).toBeUndefined();
      expect(accepted).toBe(WATCHES);
    }

    const states = statesUntil(zk, ConnectionState.RECONNECTED);
    await dedicated.server.stop();
    await dedicated.server.start();
    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);

    // The watches came through the reconnect: the first and the last one accepted still fire.
    await writer.create(pathOf(0));
    await writer.create(pathOf(accepted - 1));
    await until(() => fired.length === 2, {
      message: () => `2 watch events; got ${JSON.stringify(fired.map((e) => e.type))}`,
    });
    expect(fired.map((event) => event.type)).toEqual([
      WatchEventType.CREATED,
      WatchEventType.CREATED,
    ]);
  });
});
