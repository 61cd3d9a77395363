import { describe, expect, it } from '@jest/globals';
import {
  BroadcastLog,
  LogRelayEvent,
  NoNodeError,
  Transaction,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { readWholeLog } from './support.js';

const connections = useTestConnections('relay-own-batches');

type Sent = { producer: string; n: number };

/** Every message of the log, in log order (a subscriber from the earliest offset). */
const logMessages = (zk: ZookeeperConnection, topic: string, count: number) =>
  readWholeLog<Sent>(zk, topic, count);

/** The paths `get` was called with on `zk` from now on (the real call still runs). */
function recordReads(zk: ZookeeperConnection): string[] {
  const paths: string[] = [];
  const get = zk.get.bind(zk);
  zk.get = ((path: string, ...rest: unknown[]) => {
    paths.push(path);
    return (get as (...args: unknown[]) => ReturnType<typeof get>)(path, ...rest);
  }) as typeof zk.get;
  return paths;
}

describe('BroadcastLog.relay of a queue this process publishes to (own batches)', () => {
  it('takes its own batches without reading them, mixed with other publishers: each message once, in order per publisher', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-own/mixed';
    const inbox = new WorkQueue<Sent>(zk, `${root}/inbox`);
    const other = new WorkQueue<Sent>(await connections.open(), `${root}/inbox`);
    await inbox.pendingItems(); // the folders exist
    const log = new BroadcastLog<Sent>(zk, `${root}/log`);
    const relay = await log.relay(inbox, { fence: { fenced: (tx: Transaction) => tx } });
    const failures: LogRelayEvent[] = [];
    relay.events$.subscribe((event) => event.type !== 'relayed' && failures.push(event));
    const reads = recordReads(zk);
    const ownPaths: string[] = [];
    inbox.writtenBatches$.subscribe((batch) => ownPaths.push(batch.path));
    const publish = async (queue: WorkQueue<Sent>, producer: string) => {
      // Paced in small groups: many batches, each relayed as it comes.
      for (let n = 0; n < 300; n += 3) {
        await Promise.all([0, 1, 2].map((i) => queue.publish({ producer, n: n + i })));
      }
    };
    await Promise.all([publish(inbox, 'own'), publish(other, 'other')]);
    await until(() => relay.relayed === 600, { message: () => `relayed ${relay.relayed}` });
    await relay.stop();
    expect(failures).toEqual([]);
    const itemReads = reads.filter((path) => path.startsWith(`${root}/inbox/items/`));
    // The other publisher's batches are read, each once (a relayed batch a later listing still
    // holds is skipped, not read to find it gone); the own ones are not read at all.
    expect(ownPaths).toHaveLength(100);
    expect(itemReads.filter((path) => ownPaths.includes(path))).toEqual([]);
    expect(itemReads.length).toBeGreaterThanOrEqual(100);
    expect(new Set(itemReads).size).toBe(itemReads.length);
    const messages = await logMessages(connections.zk, `${root}/log`, 600);
    for (const producer of ['own', 'other']) {
      const ns = messages.filter((m) => m.producer === producer).map((m) => m.n);
      expect(ns).toEqual(Array.from({ length: 300 }, (_, n) => n));
    }
    expect(await inbox.pendingItems()).toBe(0);
    await Promise.all([inbox.close(), other.close(), log.close()]);
  }, 60_000);

  it('an own batch changed on the server after it was written is relayed as it is now, once', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-own/changed';
    const gate = `${root}/gate`;
    await zk.mkdirp(gate);
    // A fence the test opens and shuts: the step passes only while the gate is at version 1.
    const fence = {
      fenced: (tx: Transaction) => tx.check(gate, 1),
      isDeposed: (error: unknown) => !(error instanceof NoNodeError),
    };
    const inbox = new WorkQueue<Sent>(zk, `${root}/inbox`);
    const log = new BroadcastLog<Sent>(zk, `${root}/log`);
    const relay = await log.relay(inbox, { fence });
    const events: LogRelayEvent[] = [];
    relay.events$.subscribe((event) => events.push(event));

    await inbox.publish({ producer: 'p', n: 0 });
    await until(() => events.some((event) => event.type === 'deposed'), {
      message: 'the step refused by the shut gate',
    });
    // The batch as the relay's process wrote it is not what the queue holds any more.
    const [item] = await connections.zk.getChildren(`${root}/inbox/items`);
    const changed = new WorkQueue<Sent>(connections.zk, `${root}/scratch`);
    await changed.publish({ producer: 'p', n: 1 });
    const [scratch] = await connections.zk.getChildren(`${root}/scratch/items`);
    const bytes = (await connections.zk.get(`${root}/scratch/items/${scratch}`)).data;
    await connections.zk.set(`${root}/inbox/items/${item}`, bytes);
    await connections.zk.set(gate, ''); // version 1: open

    await until(() => relay.relayed === 1, {
      message: () => `relayed ${relay.relayed}: ${JSON.stringify(events.map((e) => e.type))}`,
    });
    await relay.stop();
    expect(await logMessages(connections.zk, `${root}/log`, 1)).toEqual([{ producer: 'p', n: 1 }]);
    expect(await inbox.pendingItems()).toBe(0);
    await Promise.all([inbox.close(), changed.close(), log.close()]);
  }, 60_000);
});
