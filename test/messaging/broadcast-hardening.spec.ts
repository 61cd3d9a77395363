import { describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import {
  BroadcastDelivery,
  BroadcastLog,
  BroadcastLogEvent,
  CorruptOffsetError,
  CreateMode,
  DEFAULT_MAX_UNACKED,
  DEFAULT_RETENTION_MAX_ENTRIES,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { collect, range, registration, type Message } from './support.js';

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
  method: 'get' | 'delete' | 'multi',
  prefix: string,
  until: () => Promise<void>,
): { held: () => number } {
  const original = zk[method].bind(zk) as (...args: unknown[]) => Promise<unknown>;
  let held = 0;
  // A transaction's path: its first operation's.
  const pathOf = (arg: unknown) => (Array.isArray(arg) ? (arg[0] as { path: string }).path : arg);
  (zk as unknown as Record<string, unknown>)[method] = async (arg: unknown, ...rest: unknown[]) => {
    const path = pathOf(arg) as string;
    if (path.startsWith(prefix)) {
      held++;
      await until();
    }
    return original(arg, ...rest);
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
    // With transactions the compaction deletes in one; without, one delete per batch.
    const deleting = compactorZk.capabilities.multi ? 'multi' : 'delete';
    const heldDeletes = holdCalls(compactorZk, deleting, `${topic}/log/`, deletes.wait);
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

/** A batch znode's bytes as the library frames them (magic, count, length-prefixed payloads). */
function frameBatch(payloads: readonly string[]): Buffer {
  const parts = payloads.map((payload) => {
    const bytes = Buffer.from(payload, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  const header = Buffer.alloc(8);
  Buffer.from('ZMB1', 'latin1').copy(header);
  header.writeUInt32BE(payloads.length, 4);
  return Buffer.concat([header, ...parts]);
}

describe('broadcast log: corrupt data written by others', () => {
  it('every subscriber reports a corrupt entry (or message) with entry-corrupt, skips it and goes on', async () => {
    const topic = '/topics/corrupt-entry';
    // Strict JSON (the default serializer hands non-JSON bytes over as a Buffer instead).
    const serializer = {
      serialize: (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8'),
      deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8')),
    };
    const log = new BroadcastLog<Message>(connections.zk, topic, { lingerMs: 0, serializer });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    await log.publish(range(0, 10));
    // A foreign writer: a batch name over bytes that are no batch, then a batch whose second
    // message is not JSON.
    const raw = connections.zk;
    const garbage = await raw.create(`${topic}/log/m3-`, 'not a batch', {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
    });
    const halfBad = await raw.create(
      `${topic}/log/m3-`,
      frameBatch(['{"n":10}', 'not json', '{"n":11}']),
      { mode: CreateMode.PERSISTENT_SEQUENTIAL },
    );
    await log.publish(range(12, 20));

    // 0-9, then 10 and 11 of the half-bad batch, then 12-19.
    const [a, b] = await Promise.all([collect(log, 'a', 20), collect(log, 'b', 20)]);
    expect(a.map((d) => d.message.n)).toEqual(range(0, 20).map((m) => m.n));
    expect(b.map((d) => d.message.n)).toEqual(range(0, 20).map((m) => m.n));
    const corrupt = events.filter((event) => event.type === 'entry-corrupt');
    for (const id of ['a', 'b']) {
      expect(corrupt).toContainEqual(
        expect.objectContaining({ subscriberId: id, entry: garbage.split('/').pop() }),
      );
      expect(corrupt).toContainEqual(
        expect.objectContaining({
          subscriberId: id,
          entry: halfBad.split('/').pop(),
          offset: expect.any(Number),
        }),
      );
    }
    await log.close();
  });

  it('a child of offsets/ that is not an offset is reported with offset-corrupt; compaction goes on for the others', async () => {
    const topic = '/topics/corrupt-offset';
    const log = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
    });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    const offsets = await publishBatches(log, 4);
    await collect(log, 'good', 20);
    await until(async () => (await log.committedOffsets()).get('good') === offsets[19], {
      message: "'good' to commit",
    });
    await connections.zk.create(`${topic}/offsets/broken`, '{not json');

    expect((await log.compact()).deletedEntries).toBe(2);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'offset-corrupt', subscriberId: 'broken' }),
    );
    const corrupt = events.find((event) => event.type === 'offset-corrupt');
    expect(corrupt?.type === 'offset-corrupt' && corrupt.error).toBeInstanceOf(CorruptOffsetError);
    expect([...(await log.committedOffsets()).keys()]).toEqual(['good']);

    // The subscriber whose offset it is fails with the typed error (nothing is guessed).
    const failure = firstValueFrom(log.deliveries('broken')).catch((error: unknown) => error);
    expect(await failure).toBeInstanceOf(CorruptOffsetError);
    // removeSubscriber resets it: it starts afresh.
    await log.removeSubscriber('broken');
    expect((await collect(log, 'broken', 20)).map((d) => d.message.n)[0]).toBe(20);
    await log.close();
  });
});

describe('broadcast log: abandoned subscriber ids', () => {
  it('a subscriber absent for subscriberExpiryMs stops holding retention, with subscriber-expired; a live or returning one is kept', async () => {
    const topic = '/topics/expiry';
    const log = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false, subscriberExpiryMs: 1000 },
    });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    const offsets = await publishBatches(log, 4);
    await collect(log, 'gone', 10); // the first batch, then never again
    await collect(log, 'returning', 10);
    // 'live' read everything and stays subscribed, idle (no offset write for longer than the expiry).
    let liveCount = 0;
    const live = log.deliveries('live', { autoAck: true }).subscribe(() => liveCount++);
    await until(() => liveCount === 40, { message: "'live' to read the log" });
    await until(async () => (await log.committedOffsets()).get('live') === offsets[39], {
      message: "'live' to commit",
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    // 'returning' comes back (and leaves again) after the expiry, before the compaction.
    const back = registration(log, 'returning');
    const again = log.deliveries('returning').subscribe();
    await back;
    again.unsubscribe();

    expect((await log.compact()).deletedEntries).toBe(1); // 'returning' holds batches 2-4
    const expired = events.filter((event) => event.type === 'subscriber-expired');
    expect(expired).toEqual([
      expect.objectContaining({ subscriberId: 'gone', committedOffset: offsets[9] }),
    ]);
    expect([...(await log.committedOffsets()).keys()].sort()).toEqual(['live', 'returning']);
    live.unsubscribe();
    await log.close();
  });

  it('without a maxEntries option, the default bound keeps the log at DEFAULT_RETENTION_MAX_ENTRIES with a defaulted retention-overrun', async () => {
    const topic = '/topics/default-bound';
    const log = new BroadcastLog<Message>(connections.zk, topic, { retention: { auto: false } });
    await registerOnly(log, 'stuck');
    // A foreign writer fills the log past the bound (names are all retention looks at).
    const total = DEFAULT_RETENTION_MAX_ENTRIES + 3;
    for (let start = 0; start < total; start += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, total - start) }, () =>
          connections.zk.create(`${topic}/log/m1-`, 'x', {
            mode: CreateMode.PERSISTENT_SEQUENTIAL,
          }),
        ),
      );
    }
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    expect((await log.compact()).deletedEntries).toBe(3);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'retention-overrun',
        subscriberId: 'stuck',
        reason: 'maxEntries',
        defaulted: true,
      }),
    ]);
    await log.close();
  }, 120_000);
});

describe('broadcast log: acknowledgements bound what is handed out', () => {
  it('a subscriber holds at most maxUnacked unacknowledged deliveries, and goes on as acks catch up', async () => {
    const topic = '/topics/max-unacked';
    const log = new BroadcastLog<Message>(connections.zk, topic, { lingerMs: 0 });
    for (let n = 0; n < 1500; n += 100) await log.publish(range(n, n + 100)); // 15 batches
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

    const seen: BroadcastDelivery<Message>[] = [];
    const slow = log.deliveries('slow', { maxUnacked: 100 }).subscribe((d) => seen.push(d));
    await until(() => seen.length === 100, { message: '100 deliveries' });
    await settle();
    expect(seen).toHaveLength(100);
    seen[49].ack(); // cumulative: 50 acked, room for 50 more
    await until(() => seen.length === 150, { message: '150 deliveries' });
    await settle();
    expect(seen).toHaveLength(150);
    while (seen.length < 1500) {
      const count = seen.length;
      seen[count - 1].ack();
      await until(() => seen.length > count, { message: `more than ${count} deliveries` });
    }
    expect(seen.map((d) => d.message.n)).toEqual(range(0, 1500).map((m) => m.n));

    // The default bound.
    const unbounded: BroadcastDelivery<Message>[] = [];
    const byDefault = log.deliveries('default').subscribe((d) => unbounded.push(d));
    await until(() => unbounded.length === DEFAULT_MAX_UNACKED, { message: 'the default bound' });
    await settle();
    expect(unbounded).toHaveLength(DEFAULT_MAX_UNACKED);
    slow.unsubscribe();
    byDefault.unsubscribe();
    await log.close();
  });
});

describe('broadcast log: a large batch does not hold the event loop', () => {
  it('a batch of 100,000 messages is handed out at most 1,000 per turn of the event loop', async () => {
    const topic = '/topics/large-batch';
    const log = new BroadcastLog<number>(connections.zk, topic);
    const all = Array.from({ length: 100_000 }, (_, n) => n);
    await log.publish(all);
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(1);

    // A probe scheduled with setImmediate records how many deliveries came before it ran.
    let count = 0;
    let probing = false;
    const turns: number[] = [0];
    await new Promise<void>((resolve) => {
      const subscription = log.deliveries('reader', { autoAck: true }).subscribe(() => {
        count++;
        if (!probing) {
          probing = true;
          setImmediate(() => {
            probing = false;
            turns.push(count);
          });
        }
        if (count === all.length) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    turns.push(count);
    const longest = Math.max(...turns.slice(1).map((at, i) => at - turns[i]));
    expect(longest).toBeLessThanOrEqual(1000);
    await log.close();
  });
});

/** Registers a durable subscriber (its offset stored) and leaves at once, reading nothing. */
async function registerOnly(log: BroadcastLog<Message>, id: string): Promise<void> {
  const registered = registration(log, id);
  const subscription = log.deliveries(id).subscribe();
  await registered;
  subscription.unsubscribe();
}
