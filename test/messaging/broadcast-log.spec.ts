import { describe, expect, it } from '@jest/globals';
import { filter, Subscription } from 'rxjs';
import {
  BroadcastDelivery,
  BroadcastLog,
  BroadcastLogEvent,
  MessageTooLargeError,
  nodeName,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';
import { Recorder } from '../support/watch-helpers.js';
import { collect, isRegistration, range, registration, type Message } from './support.js';

const connections = useTestConnections('broadcast');

describe('BroadcastLog', () => {
  it('delivers in publish order and batches arrays and the linger window into few znodes', async () => {
    const log = new BroadcastLog<Message>(connections.zk, '/topics/order', { lingerMs: 20 });
    const started = Date.now();
    const offsets = await log.publish(range(0, 3000));
    const singles = await Promise.all(range(3000, 3200).map((message) => log.publish(message)));
    const publishMs = Date.now() - started;
    const entries = await connections.zk.getChildren('/topics/order/log');
    // 3000 small messages fit one batch; 200 single publishes within the linger window share few.
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(entries.length).toBeLessThanOrEqual(10);

    const readStarted = Date.now();
    const deliveries = await collect(log, 'reader', 3200);
    console.log(
      `broadcast: published 3200 messages in ${entries.length} znodes in ${publishMs} ms, ` +
        `read them in ${Date.now() - readStarted} ms`,
    );
    expect(deliveries.map((d) => d.message.n)).toEqual(range(0, 3200).map((m) => m.n));
    const delivered = deliveries.map((d) => d.offset);
    expect(delivered.every((offset, i) => i === 0 || offset > delivered[i - 1])).toBe(true);
    // publish resolves to the offsets the subscribers see.
    expect([...offsets, ...singles.flat()]).toEqual(delivered);
    await log.close();
  });

  it('splits a large publish into batches under the size limit and refuses an oversize message', async () => {
    const log = new BroadcastLog<string>(connections.zk, '/topics/large', {
      maxBatchBytes: 100_000,
    });
    const big = 'x'.repeat(30_000);
    await log.publish(Array.from({ length: 10 }, () => big));
    // 3 messages of ~30 KB per 100 KB batch.
    expect(await connections.zk.getChildren('/topics/large/log')).toHaveLength(4);
    await expect(log.publish(['small', 'y'.repeat(100_000)])).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    expect(await connections.zk.getChildren('/topics/large/log')).toHaveLength(4);
    await log.close();
  });

  it('delivers to a live subscriber as messages are published (children watch)', async () => {
    const log = new BroadcastLog<Message>(connections.zk, '/topics/live');
    const received: number[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const subscription = log.deliveries('live', { autoAck: true }).subscribe((d) => {
      received.push(d.message.n);
      if (received.length === 500) resolve();
    });
    for (let n = 0; n < 500; n += 25) await log.publish(range(n, n + 25));
    await done;
    expect(received).toEqual(range(0, 500).map((m) => m.n));
    subscription.unsubscribe();
    await log.close();
  });

  it('resumes a restarted subscriber right after its committed offset; latest skips history', async () => {
    const topic = '/topics/resume';
    const first = new BroadcastLog<Message>(connections.zk, topic);
    await first.publish(range(0, 300));
    // Ack 120 of 300, then stop (as a process shutdown would): the acks are committed on stop.
    const seen: BroadcastDelivery<Message>[] = [];
    await new Promise<void>((resolve) => {
      const subscription: Subscription = first.deliveries('worker').subscribe((d) => {
        seen.push(d);
        if (d.message.n < 120) d.ack();
        if (seen.length === 300) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    await first.close();
    expect((await connections.zk.getChildren(`${topic}/clients`)).length).toBe(0);

    const second = new BroadcastLog<Message>(connections.zk, topic);
    await second.publish(range(300, 400));
    const resumed = await collect(second, 'worker', 280);
    expect(resumed.map((d) => d.message.n)).toEqual(range(120, 400).map((m) => m.n));

    const lateRegistered = registration(second, 'late');
    const latestDone = collect(second, 'late', 50, { from: 'latest' });
    await lateRegistered;
    await second.publish(range(400, 450));
    expect((await latestDone).map((d) => d.message.n)).toEqual(range(400, 450).map((m) => m.n));
    await second.close();
  });

  it('compacts exactly the batches every durable subscriber committed past', async () => {
    const topic = '/topics/retention';
    const log = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
    });
    for (let n = 0; n < 10; n++) await log.publish(range(n * 10, n * 10 + 10)); // 10 batches
    await collect(log, 'fast', 100);
    await collect(log, 'slow', 35); // commits through #34, inside the 4th batch
    await log.close();

    const reopened = new BroadcastLog<Message>(connections.zk, topic, {
      retention: { auto: false },
    });
    const result = await reopened.compact();
    expect(result.deletedEntries).toBe(3);
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(7);
    expect((await collect(reopened, 'slow', 65)).map((d) => d.message.n)).toEqual(
      range(35, 100).map((m) => m.n),
    );
    // Everyone read everything: all but the newest batch go (it keeps the end offset known).
    expect((await reopened.compact()).deletedEntries).toBe(6);
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(1);
    await reopened.close();
  });

  it('maxEntries deletes past a lagging subscriber only with a retention-overrun event', async () => {
    const topic = '/topics/overrun';
    const log = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      retention: { auto: false, maxEntries: 4 },
    });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    await registerOnly(log, 'lagging');
    await registerOnly(log, 'lagging-2');
    for (let n = 0; n < 6; n++) await log.publish(range(n * 5, n * 5 + 5));
    const result = await log.compact();
    expect(result.deletedEntries).toBe(2);
    const overruns = events.filter((event) => event.type === 'retention-overrun');
    expect(
      overruns.map((event) => event.type === 'retention-overrun' && event.subscriberId).sort(),
    ).toEqual(['lagging', 'lagging-2']);
    expect(overruns[0]).toMatchObject({ reason: 'maxEntries', committedOffset: -1, active: false });
    await log.close();
  });

  it('maxAgeMs deletes old batches, announcing the subscribers it overtakes', async () => {
    const topic = '/topics/max-age';
    const log = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false, maxAgeMs: 1000 },
    });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    await registerOnly(log, 'behind');
    for (let n = 0; n < 3; n++) await log.publish(range(n * 5, n * 5 + 5)); // old batches
    await collect(log, 'caught-up', 15);
    const oldBatches = await connections.zk.getChildren(`${topic}/log`);
    const stats = await Promise.all(
      oldBatches.map((name) => connections.zk.exists(`${topic}/log/${name}`)),
    );
    const newestOld = Math.max(...stats.map((stat) => stat!.ctime.getTime()));
    await until(() => Date.now() - newestOld > 1000, {
      message: 'the 3 old batches to be older than maxAgeMs',
      timeoutMs: 5000,
    });
    for (let n = 3; n < 5; n++) await log.publish(range(n * 5, n * 5 + 5)); // young batches
    await until(async () => (await log.committedOffsets()).get('caught-up')! >= 0, {
      message: "'caught-up' to commit",
    });

    expect((await log.compact()).deletedEntries).toBe(3);
    expect(await connections.zk.getChildren(`${topic}/log`)).toHaveLength(2);
    const overruns = events.filter((event) => event.type === 'retention-overrun');
    // 'caught-up' had committed past the old batches: only 'behind' was overtaken.
    expect(overruns).toEqual([
      expect.objectContaining({ subscriberId: 'behind', reason: 'maxAgeMs', committedOffset: -1 }),
    ]);
    const [first] = await collect(log, 'behind', 10);
    expect(first.message.n).toBe(15);
    expect(overruns[0]).toMatchObject({ deletedThroughOffset: first.offset - 100_000 + 4 });
    await log.close();
  });

  it('skips a listed batch deleted before it was read, with an entry-missing event', async () => {
    const topic = '/topics/missing';
    const writer = new BroadcastLog<Message>(connections.zk, topic, {
      lingerMs: 0,
      retention: { auto: false, maxEntries: 2 },
    });
    for (let n = 0; n < 10; n++) await writer.publish(range(n * 10, n * 10 + 10)); // 10 batches
    // The slow subscriber: its reads of log batches wait at a gate (the reads themselves, and
    // everything else, go to the real server).
    const readerZk = await connections.open();
    const get = readerZk.get.bind(readerZk);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let held = 0;
    readerZk.get = (async (path, options) => {
      if (path.startsWith(`${topic}/log/`)) {
        held++;
        await gate;
      }
      return get(path, options);
    }) as typeof readerZk.get;
    const reader = new BroadcastLog<Message>(readerZk, topic);
    const events: BroadcastLogEvent[] = [];
    reader.events$.subscribe((event) => events.push(event));
    const received = collect(reader, 'slow', 20);
    await until(() => held > 0, { message: 'the slow reader to reach a batch' });

    const listed = await connections.zk.getChildren(`${topic}/log`);
    expect((await writer.compact()).deletedEntries).toBe(8); // behind the slow reader's back
    open();
    expect((await received).map((d) => d.message.n)).toEqual(range(80, 100).map((m) => m.n));
    const missing = events.filter((event) => event.type === 'entry-missing');
    const deleted = inLogOrder(listed).slice(0, 8);
    expect(missing.map((event) => event.type === 'entry-missing' && event.entry)).toEqual(deleted);
    expect(missing[0]).toMatchObject({ subscriberId: 'slow', deliveredOffset: -1 });
    await Promise.all([writer.close(), reader.close()]);
  });

  it('re-registers after a session expiry and goes on delivering', async () => {
    const topic = '/topics/expiry';
    const subscriberZk = await connections.open({ sessionTimeoutMs: 2000 });
    const reader = new BroadcastLog<Message>(subscriberZk, topic);
    const writer = new BroadcastLog<Message>(connections.zk, topic);
    const registrations = new Recorder(reader.events$.pipe(filter(isRegistration)));
    const received: number[] = [];
    reader.deliveries('s', { autoAck: true }).subscribe((d) => received.push(d.message.n));
    const before = await registrations.until(() => true, 'the registration');
    expect(await connections.zk.getChildren(`${topic}/clients`)).toEqual([nodeName(before.path)]);
    await writer.publish(range(0, 100));
    await expireSession(subscriberZk);
    await writer.publish(range(100, 200));
    const after = await registrations.until(
      (event) => event.path !== before.path,
      'the registration in the new session',
    );
    // The old client node went with the old session: one client, the new one.
    expect(await connections.zk.getChildren(`${topic}/clients`)).toEqual([nodeName(after.path)]);
    await until(() => received.length >= 200, { message: '200 deliveries' });
    expect(received).toEqual(range(0, 200).map((m) => m.n));
    registrations.unsubscribe();
    await Promise.all([reader.close(), writer.close()]);
  });
});

/** Registers a durable subscriber (its offset stored) and leaves at once, reading nothing. */
async function registerOnly(log: BroadcastLog<Message>, id: string): Promise<void> {
  const registered = registration(log, id);
  const subscription = log.deliveries(id).subscribe();
  await registered;
  subscription.unsubscribe();
}

/** Batch znode names (`_c_<uuid>-m<count>-<sequence>`) in log order: by their sequence. */
function inLogOrder(names: readonly string[]): string[] {
  const sequence = (name: string) => Number(name.slice(-10));
  return [...names].sort((a, b) => sequence(a) - sequence(b));
}
