import { describe, expect, it } from '@jest/globals';
import { BroadcastLog, BroadcastLogEvent, ZookeeperConnection } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { collect, range, type Message } from './support.js';

const connections = useTestConnections('broadcast-hardening');

/** A gate: `wait()` holds until `open()`. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => opened };
}

/** Holds every call of `method` on `zk` whose path starts with `prefix` until `until` resolves. */
function holdCalls(
  zk: ZookeeperConnection,
  method: 'get' | 'delete',
  prefix: string,
  until: () => Promise<void>,
): { held: () => number } {
  const original = zk[method].bind(zk) as (...args: unknown[]) => Promise<unknown>;
  let held = 0;
  (zk as unknown as Record<string, unknown>)[method] = async (path: string, ...rest: unknown[]) => {
    if (path.startsWith(prefix)) {
      held++;
      await until();
    }
    return original(path, ...rest);
  };
  return { held: () => held };
}

/** Publishes `batches` batches of 10 messages `{ n }`, one awaited publish each. */
async function publishBatches(log: BroadcastLog<Message>, batches: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let b = 0; b < batches; b++)
    offsets.push(...(await log.publish(range(b * 10, b * 10 + 10))));
  return offsets;
}

describe('broadcast log: retention against registrations', () => {
  it('a subscriber registering while a compaction runs finds no entry missing: it starts after what the compaction deletes', async () => {
    const topic = '/topics/registering';
    const writer = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
    });
    const offsets = await publishBatches(writer, 10);
    await collect(writer, 'old', 50); // through the 5th batch
    await until(async () => (await writer.committedOffsets()).get('old') === offsets[49], {
      message: "'old' to commit",
    });

    // The compactor read the offsets (only 'old') and is about to delete the first 5 batches.
    const compactorZk = await connections.open();
    const deletes = gate();
    const heldDeletes = holdCalls(compactorZk, 'delete', `${topic}/log/`, deletes.wait);
    const compactor = new BroadcastLog<Message>(compactorZk, topic, {
      retention: { auto: false },
    });
    const compaction = compactor.compact();
    await until(() => heldDeletes.held() > 0, { message: 'the compaction to reach its deletes' });

    // Meanwhile a new subscriber stores its offset (earliest) and would read the log; its reads
    // are held until the compaction is over, so they come after the deletes.
    const readerZk = await connections.open();
    const compacted = gate();
    const heldReads = holdCalls(readerZk, 'get', `${topic}/log/`, compacted.wait);
    const reader = new BroadcastLog<Message>(readerZk, topic, { retention: { auto: false } });
    const events: BroadcastLogEvent[] = [];
    reader.events$.subscribe((event) => events.push(event));
    const received = collect(reader, 'new', 50);
    await until(async () => (await connections.zk.exists(`${topic}/offsets/new`)) !== undefined, {
      message: "'new' to store its offset",
    });

    // It goes as far as it can: to its reads (held), or it waits for the compaction.
    await until(() => heldReads.held() > 0, { message: 'reads', timeoutMs: 1000 }).catch(() => 0);
    deletes.open();
    expect((await compaction).deletedEntries).toBe(5);
    compacted.open();
    // Every message still in the log once it registered, none reported missing.
    expect((await received).map((d) => d.message.n)).toEqual(range(50, 100).map((m) => m.n));
    expect(events.filter((event) => event.type === 'entry-missing')).toEqual([]);
    await Promise.all([writer.close(), compactor.close(), reader.close()]);
  });
});
