import { describe, expect, it } from '@jest/globals';
import {
  BroadcastLog,
  BroadcastLogEvent,
  CreateMode,
  InvalidOptionsError,
  LeaderElection,
  NoAuthError,
  NoNodeError,
  SequenceExhaustedError,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { collect, expectEachWriterInOrder, segmentsOf, Sent } from './segment-support.js';
import { firstMatch, until } from '../support/until.js';
import { gate, within } from './support.js';
import {
  parseBatchEntry,
  SEQUENCE_STRIDE,
} from '../../libs/zookeeper/src/messaging/shared/entry-names.js';
import {
  segmentIndexOf,
  segmentIndices,
  segmentName,
} from '../../libs/zookeeper/src/messaging/shared/segmented-folder.js';

const connections = useTestConnections('segments');
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
describe('segment names (pure)', () => {
  it('segment 0 is the base name, later ones base.<n>; anything else is no segment', () => {
    expect(segmentName('log', 0)).toBe('log');
    expect(segmentName('log', 12)).toBe('log.12');
    expect(segmentIndexOf('log', 'log')).toBe(0);
    expect(segmentIndexOf('log', 'log.7')).toBe(7);
    for (const name of ['log.0', 'log.-1', 'log.x', 'logs', 'log.', 'offsets', 'log.01']) {
      expect(segmentIndexOf('log', name)).toBeUndefined();
    }
    expect(segmentIndices('items', ['locks', 'items.2', 'items', 'items.10'])).toEqual([0, 2, 10]);
  });

  it('a wrapped sequence name (-2147483648) is no batch; a later segment adds its stride', () => {
    expect(parseBatchEntry('_c_x-m3--2147483648')).toBeUndefined();
    expect(parseBatchEntry('_c_x-m3-2147483648')).toBeUndefined();
    expect(parseBatchEntry('_c_x-m3-0000000005', 2)).toEqual({
      name: '_c_x-m3-0000000005',
      count: 3,
      sequence: 2 * SEQUENCE_STRIDE + 5,
    });
  });
});

/**
 * A log of small segments and two writers: a publishes 0:0 and 0:1; b's batch lands at 0:2, the
 * roll-over point, and `intercept` (given b's connection, a `hold` that parks b until released,
 * and the segments' folders) decides where b is held. Meanwhile a rolls the log on (0:3 seals 0,
 * then 1 and 2 fill and roll), the reader reads it all, and retention removes the emptied segments
 * 0, 1 and 2. Then b is released and publishes once more.
 */
async function rollPastAHeldWriter(
  topic: string,
  intercept: (
    staleZk: ZookeeperConnection,
    hold: () => Promise<void>,
    folder: (index: number) => string,
  ) => void,
) {
  const zk = connections.zk;
  const options = {
    lingerMs: 0,
    commitIntervalMs: 10,
    retention: { auto: false },
    segments: { rolloverAt: 2 },
  };
  const log = new BroadcastLog<Sent>(zk, topic, options);
  const { received } = collect(log, 'reader');
  await until(async () => (await log.committedOffsets()).has('reader'), {
    message: 'registered',
  });
  await log.publish({ writer: 'a', n: 0 }); // segment 0, sequence 0
  await log.publish({ writer: 'a', n: 1 }); // 0:1
  const staleZk = await connections.open();
  const stale = new BroadcastLog<Sent>(staleZk, topic, options);
  const reached = gate();
  const held = gate();
  intercept(
    staleZk,
    async () => {
      reached.open();
      await held.opened;
    },
    (index) => stale.segments.folder(index),
  );
  const late = stale.publish({ writer: 'b', n: 0 });
  await within(reached.opened, 10_000, 'the stale writer to be held');
  for (let n = 2; n < 10; n++) await log.publish({ writer: 'a', n });
  expect(await segmentsOf(zk, topic, 'log')).toEqual([0, 1, 2, 3]);
  await until(() => received.length >= 11, { message: () => `received ${received.length}` });
  await until(
    async () => (await log.committedOffsets()).get('reader') === (await log.stats()).lastOffset,
    { message: 'committed' },
  );
  await log.compact();
  expect(await segmentsOf(zk, topic, 'log')).toEqual([3]);
  held.open();
  await late;
  await stale.publish({ writer: 'b', n: 1 });
  return {
    zk,
    staleZk,
    stale,
    /** Every message of both writers reached the reader, each writer's in order. */
    async expectAllDelivered() {
      await until(() => received.length >= 12, { message: () => `received ${received.length}` });
      expectEachWriterInOrder(
        received.map(({ message }) => message),
        { a: 10, b: 2 },
      );
      await Promise.all([log.close(), stale.close()]);
    },
  };
}

describe('segments: logs and queues roll over before the sequence counter wraps', () => {
  it('a log rolls over to new segments and is read across them in order, offsets still increasing', async () => {
    const zk = connections.zk;
    const topic = '/seg/log-basic';
    const log = new BroadcastLog<number>(zk, topic, { lingerMs: 0, segments: { rolloverAt: 4 } });
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    const offsets: number[] = [];
    for (let n = 0; n < 30; n++) offsets.push(...(await log.publish(n)));
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
    // Sequences 0..4 in each segment (the batch numbered 4 rolls it over): 6 full segments, and
    // the 7th that the last batch rolled over to.
    expect(await segmentsOf(zk, topic, 'log')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const rolled = events.filter((event) => event.type === 'segment-rolled');
    expect(rolled.map((event) => event.type === 'segment-rolled' && event.segment)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(await log.stats()).toMatchObject({
      entries: 30,
      messages: 30,
      firstOffset: offsets[0],
      lastOffset: offsets[29],
    });
    const { received } = collect(log, 'reader');
    await until(() => received.length >= 30, { message: () => `received ${received.length}` });
    expect(received.map(({ message }) => message)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(received.map(({ offset }) => offset)).toEqual(offsets);
    // A sealed segment takes no more children, from anyone.
    await expect(
      zk.create(`${topic}/log/m1-`, 'late', { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
    ).rejects.toBeInstanceOf(NoAuthError);
    await log.close();
  }, 30_000);

  it('writers that have not heard of a roll are refused by the sealed segment and go on in the new one: a live subscriber misses nothing, each writer in order', async () => {
    const topic = '/seg/log-writers';
    const options = { lingerMs: 0, segments: { rolloverAt: 3 } };
    const reader = new BroadcastLog<Sent>(connections.zk, topic, options);
    const { received } = collect(reader, 'live');
    await until(async () => (await reader.committedOffsets()).has('live'), {
      message: 'registered',
    });
    const writers = await Promise.all(
      ['a', 'b', 'c'].map(async (writer) => ({
        writer,
        log: new BroadcastLog<Sent>(await connections.open(), topic, options),
      })),
    );
    let rolls = 0;
    for (const { log } of writers) {
      log.events$.subscribe((event) => (rolls += event.type === 'segment-rolled' ? 1 : 0));
    }
    // Each writer learns the write segment once, then keeps writing while the others roll it.
    await Promise.all(
      writers.map(async ({ writer, log }) => {
        for (let n = 0; n < 40; n++) await log.publish({ writer, n });
      }),
    );
    await until(() => received.length >= 120, { message: () => `received ${received.length}` });
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may come
    expectEachWriterInOrder(
      received.map(({ message }) => message),
      { a: 40, b: 40, c: 40 },
    );
    const offsets = received.map(({ offset }) => offset);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
    // Counted from the events: retention removes the segments the reader passed.
    expect(rolls).toBeGreaterThan(5);
    await Promise.all(writers.map(({ log }) => log.close()));
    await reader.close();
  }, 60_000);

  it('a subscriber restarted with its offset in a later segment resumes there; retention removes the segments everyone passed', async () => {
    const zk = connections.zk;
    const topic = '/seg/log-retention';
    const log = new BroadcastLog<number>(zk, topic, {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
      segments: { rolloverAt: 3 },
    });
    for (let n = 0; n < 20; n++) await log.publish(n);
    const first = collect(log, 'resumer');
    await until(() => first.received.length >= 20, { message: 'first 20' });
    first.subscription.unsubscribe();
    await until(
      async () => (await log.committedOffsets()).get('resumer') === (await log.stats()).lastOffset,
      {
        message: 'committed',
      },
    );
    for (let n = 20; n < 30; n++) await log.publish(n);
    const second = collect(log, 'resumer');
    await until(() => second.received.length >= 10, { message: 'the next 10' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(second.received.map(({ message }) => message)).toEqual(
      Array.from({ length: 10 }, (_, n) => 20 + n),
    );
    await until(
      async () => (await log.committedOffsets()).get('resumer') === (await log.stats()).lastOffset,
      {
        message: 'committed again',
      },
    );
    const before = await segmentsOf(zk, topic, 'log');
    const result = await log.compact();
    expect(result.deletedEntries).toBe(29); // all but the newest entry
    const after = await segmentsOf(zk, topic, 'log');
    expect(after).toEqual([before.at(-1)]);
    // Segment 0 is gone: a new instance neither re-creates it nor loses its place.
    const again = new BroadcastLog<number>(await connections.open(), topic, { lingerMs: 0 });
    await again.publish(30);
    expect(await segmentsOf(zk, topic, 'log')).toEqual(after);
    const late = collect(again, 'late');
    await until(() => late.received.length >= 2, { message: 'the kept entry and the new one' });
    expect(late.received.map(({ message }) => message)).toEqual([29, 30]);
    await again.close();
    await log.close();
  }, 60_000);

  it('a roll cut short after its seal (the roller died before creating the next segment) is finished by the next writer the seal refuses', async () => {
    const topic = '/seg/log-cut-short';
    const options = { lingerMs: 0, segments: { rolloverAt: 1000 } };
    const log = new BroadcastLog<number>(connections.zk, topic, options);
    const { received } = collect(log, 'reader');
    await log.publish(0);
    await log.segments.seal(0); // what the roller did before it died
    const writer = new BroadcastLog<number>(await connections.open(), topic, options);
    await writer.publish(1); // learns segment 0, is refused, creates segment 1 and writes there
    await log.publish(2);
    await until(() => received.length >= 3, { message: () => `received ${received.length}` });
    expect(received.map(({ message }) => message)).toEqual([0, 1, 2]);
    // Segment 1 was made by the refused writer (retention may already have removed segment 0).
    expect((await segmentsOf(connections.zk, topic, 'log')).at(-1)).toBe(1);
    await Promise.all([log.close(), writer.close()]);
  }, 30_000);

  it('a writer whose batch reached the roll-over point of a segment the log has long left (its reply held up) re-creates no removed segment: its next batch goes to the newest and is delivered', async () => {
    const topic = '/seg/log-stale-roll';
    // b hears of its batch only much later (what a reply lost to a server restart and found
    // again after a session expiry looks like).
    const run = await rollPastAHeldWriter(topic, (staleZk, hold) => {
      const create = staleZk.create.bind(staleZk);
      staleZk.create = async (...args: Parameters<typeof create>) => {
        const path = await create(...args);
        if (args[0].startsWith(`${topic}/log/`)) await hold();
        return path;
      };
    });
    // b's roll of segment 0 finds the log past it: it creates no segment 1 behind the readers.
    expect(await segmentsOf(run.zk, topic, 'log')).toEqual([3]);
    await run.expectAllDelivered();
  }, 30_000);

  it('a roll whose create of the next segment is held up until the log has rolled past it and retention removed that segment creates it not again (fenced by the topic node version with multi; sealed at once without)', async () => {
    const topic = '/seg/log-held-roll';
    // b seals segment 0, lists the log (segment 0 is the newest), and then its create of segment
    // 1 is held up (what a create sent just before an outage and sent again by the connection's
    // retry afterwards looks like).
    const run = await rollPastAHeldWriter(topic, (staleZk, hold, folder) => {
      const holdFor = async (paths: string[]) => {
        if (paths.includes(folder(1))) await hold();
      };
      const create = staleZk.create.bind(staleZk);
      staleZk.create = async (...args: Parameters<typeof create>) => {
        await holdFor([args[0]]);
        return create(...args);
      };
      const multi = staleZk.multi.bind(staleZk);
      staleZk.multi = async (...args: Parameters<typeof multi>) => {
        await holdFor(args[0].map((op) => op.path));
        return multi(...args);
      };
    });
    // Before: segment 1 created again behind the reader, and b's next batch in it never read.
    // (b's batch may fill segment 3 and roll it on: segment 4 is fine, anything below 3 is not.)
    const segments = await segmentsOf(run.zk, topic, 'log');
    if (run.staleZk.capabilities.multi) {
      // Fenced: the held create fails.
      expect(Math.min(...segments)).toBe(3);
    } else {
      // Unfenced: the held create makes segment 1 again, but it is sealed at once and empty.
      for (const index of segments.filter((i) => i < 3)) {
        expect(await run.stale.segments.isSealed(index)).toBe(true);
        expect(await run.zk.getChildren(run.stale.segments.folder(index))).toEqual([]);
      }
    }
    await run.expectAllDelivered();
  }, 30_000);

  it('a newer segment made by something other than a roll (segment 0 not sealed) is sealed by a reader that may: nothing lost, nothing out of order', async () => {
    const zk = connections.zk;
    const topic = '/seg/log-interrupted';
    const options = { lingerMs: 0, segments: { rolloverAt: 1000 } };
    const old = new BroadcastLog<Sent>(await connections.open(), topic, options);
    await old.publish({ writer: 'old', n: 0 }); // writes to segment 0 from now on
    const { received } = collect(new BroadcastLog<Sent>(zk, topic, options), 'reader');
    await until(() => received.length >= 1, { message: 'the first message' });
    // Not made by a roll (a roll seals first): the next segment, segment 0 not sealed.
    await zk.create(`${topic}/log.1`, '');
    const fresh = new BroadcastLog<Sent>(await connections.open(), topic, options);
    await fresh.publish({ writer: 'fresh', n: 0 }); // a new writer takes the newest segment
    // The reader moves on by sealing segment 0; the old writer is then refused and follows.
    await until(() => received.length >= 2, { message: () => `received ${received.length}` });
    for (let n = 1; n < 10; n++) {
      await Promise.all([old.publish({ writer: 'old', n }), fresh.publish({ writer: 'fresh', n })]);
    }
    await until(() => received.length >= 20, { message: () => `received ${received.length}` });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectEachWriterInOrder(
      received.map(({ message }) => message),
      { old: 10, fresh: 10 },
    );
    const offsets = received.map(({ offset }) => offset);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
    // Sealed, or already removed by retention once its entry was read by everyone.
    const late = await zk
      .create(`${topic}/log/m1-`, 'late', { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      .catch((error: unknown) => error);
    expect(late instanceof NoAuthError || late instanceof NoNodeError).toBe(true);
    await Promise.all([old.close(), fresh.close()]);
  }, 30_000);

  it('a work queue rolls over; its consumers take every item across segments and emptied segments go', async () => {
    const zk = connections.zk;
    const path = '/seg/queue';
    const options = { lingerMs: 0, segments: { rolloverAt: 3 } };
    const publisher = new WorkQueue<Sent>(zk, path, options);
    const stale = new WorkQueue<Sent>(await connections.open(), path, options);
    await stale.publish({ writer: 'stale', n: 0 }); // learns segment 0, then others roll it
    for (let n = 0; n < 30; n++) await publisher.publish({ writer: 'p', n });
    for (let n = 1; n < 5; n++) await stale.publish({ writer: 'stale', n });
    expect((await segmentsOf(zk, path, 'items')).length).toBeGreaterThan(5);
    expect(await publisher.pendingItems()).toBe(35);
    const handled: Sent[] = [];
    const consumers = await Promise.all(
      [0, 1].map(async () =>
        new WorkQueue<Sent>(await connections.open(), path, options).consume(
          { concurrency: 2 },
          (message) => void handled.push(message),
        ),
      ),
    );
    await until(() => handled.length >= 35, { message: () => `handled ${handled.length}` });
    await until(async () => (await publisher.pendingItems()) === 0, { message: 'no items left' });
    const seen = new Set(handled.map(({ writer, n }) => `${writer}:${n}`));
    expect(seen.size).toBe(35);
    // One more item makes the consumers list again: the emptied older segments are removed.
    await publisher.publish({ writer: 'p', n: 30 });
    let segments: number[] = [];
    await until(async () => (segments = await segmentsOf(zk, path, 'items')).length === 1, {
      message: () => `segments ${JSON.stringify(segments)}`,
    });
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await Promise.all([publisher.close(), stale.close()]);
  }, 60_000);

  it('a relay moves a rolling queue into a rolling log: every message once, in order per producer', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const election = new LeaderElection(zk, '/seg/relay/master', {
      participantId: 'm',
      logger: quiet,
    });
    await election.start();
    await firstMatch(election.isLeader$, Boolean, { message: 'leadership', timeoutMs: 20_000 });
    const options = { lingerMs: 0, segments: { rolloverAt: 3 } };
    // Every second relayed batch rolls the log over.
    const log = new BroadcastLog<Sent>(zk, '/seg/relay/log', { segments: { rolloverAt: 1 } });
    const relay = await log.relay(new WorkQueue(zk, '/seg/relay/inbox', options), {
      fence: election,
    });
    let steps = 0;
    relay.events$.subscribe((event) => (steps += event.type === 'relayed' ? 1 : 0));
    let inboxRolls = 0;
    const { received } = collect(log, 'reader');
    const producers = await Promise.all(
      ['p1', 'p2'].map(async (writer) => ({
        writer,
        inbox: new WorkQueue<Sent>(await connections.open(), '/seg/relay/inbox', options),
      })),
    );
    for (const { inbox } of producers) {
      inbox.events$.subscribe((event) => (inboxRolls += event.type === 'segment-rolled' ? 1 : 0));
    }
    await Promise.all(
      producers.map(async ({ writer, inbox }) => {
        for (let n = 0; n < 30; n++) await inbox.publish({ writer, n });
      }),
    );
    await until(() => received.length >= 60, { message: () => `received ${received.length}` });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectEachWriterInOrder(
      received.map(({ message }) => message),
      { p1: 30, p2: 30 },
    );
    expect(inboxRolls).toBeGreaterThan(3);
    expect(steps).toBeGreaterThan(1);
    // Segments the relay's log went through (older ones may be gone with retention).
    const segments = await segmentsOf(zk, '/seg/relay/log', 'log');
    expect(segments.at(-1)).toBe(Math.floor(steps / 2));
    await relay.stop();
    await Promise.all(producers.map(({ inbox }) => inbox.close()));
    await log.close();
    await election.close();
  }, 60_000);

  it('a log that used every segment its offsets can address refuses publishes with SequenceExhaustedError', async () => {
    const log = new BroadcastLog<number>(connections.zk, '/seg/exhausted', {
      lingerMs: 0,
      segments: { rolloverAt: 1 },
    });
    let published = 0;
    let failure: unknown;
    while (published < 200 && !failure) {
      await log.publish(published).then(
        () => published++,
        (error: unknown) => (failure = error),
      );
    }
    expect(failure).toBeInstanceOf(SequenceExhaustedError);
    // Two batches per segment (the second, numbered 1, rolls it over), 41 segments.
    expect(published).toBe(82);
    await log.close();
  }, 60_000);

  it('rolloverAt must be a positive integer below 2^31 (InvalidOptionsError)', () => {
    for (const rolloverAt of [0, -1, 1.5, Number.NaN, 2 ** 31 - 2 ** 20 + 1]) {
      expect(
        () => new BroadcastLog(connections.zk, '/seg/options', { segments: { rolloverAt } }),
      ).toThrow(InvalidOptionsError);
      expect(
        () => new WorkQueue(connections.zk, '/seg/options', { segments: { rolloverAt } }),
      ).toThrow(InvalidOptionsError);
    }
  });
});
