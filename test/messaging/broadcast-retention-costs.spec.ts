import { describe, expect, it } from '@jest/globals';
import { BroadcastLog } from 'nestjs-zookeeper';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';
import { collect, range, zxidNow, type Message } from './support.js';

// A server of its own: the zxid advance between two marker writes counts every write
// transaction in between, which is exact only when nobody else writes.
const dedicated = new DedicatedServer();

describe('broadcast log retention costs (own server)', () => {
  it('a compaction deletes hundreds of batches in a few server transactions with multi', async () => {
    const zk = await dedicated.connect();
    const topic = '/topics/compaction-costs';
    const log = new BroadcastLog<Message>(zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
    });
    const BATCHES = 600;
    for (let b = 0; b < BATCHES; b++) await log.publish(range(b, b + 1));
    const read = await collect(log, 'reader', BATCHES);
    const lastOffset = read.at(-1)!.offset;
    await until(async () => (await log.committedOffsets()).get('reader') === lastOffset, {
      message: "'reader' to commit all it read",
    });
    await zk.mkdirp('/markers');

    const first = await zxidNow(zk);
    const result = await log.compact();
    const last = await zxidNow(zk);
    const transactions = last - first - 1;
    console.log(
      `compaction of ${result.deletedEntries} batches (${zk.capabilities.multi ? 'with' : 'without'} multi): ` +
        `${transactions} write transactions`,
    );
    // Every batch but the newest (it keeps the log's end offset known).
    expect(result.deletedEntries).toBe(BATCHES - 1);
    expect((await log.stats()).entries).toBe(1);
    // With multi: the `compacting` node's create and delete and 2 transactions of deletes.
    if (zk.capabilities.multi) expect(transactions).toBeLessThanOrEqual(6);
    else expect(transactions).toBeGreaterThanOrEqual(BATCHES - 1);
    await log.close();
  }, 120_000);
});
