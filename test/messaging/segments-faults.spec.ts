// Segments under the ways a second reading found to break them: writers whose segment was
// removed, folders without ADMIN, readers without ADMIN, a relay whose log segment went, and the
// watches a consumer leaves behind.
import { describe, expect, it } from '@jest/globals';
import {
  Acl,
  BroadcastLog,
  BroadcastLogEvent,
  digestAcl,
  LeaderElection,
  WorkQueue,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { collect, segmentsOf } from './segment-support.js';
import { firstMatch, until } from '../support/until.js';
import { ItemListing } from '../../libs/zookeeper/src/messaging/queue/item-listing.js';

const connections = useTestConnections('segments-faults');
describe('segments under removed segments, missing permissions and long runs', () => {
  it('queue: a writer that learned segment 0 can still publish after consumers removed it', async () => {
    const zk = connections.zk;
    const path = '/segf/queue-removed';
    const options = { lingerMs: 0, segments: { rolloverAt: 3 } };
    const publisher = new WorkQueue<number>(zk, path, options);
    const stale = new WorkQueue<number>(await connections.open(), path, options);
    await stale.publish(-1); // caches write segment 0
    for (let n = 0; n < 10; n++) await publisher.publish(n);
    const handled: number[] = [];
    const consumer = await new WorkQueue<number>(await connections.open(), path, options).consume(
      (message) => void handled.push(message),
    );
    await until(() => handled.length >= 11, { message: () => `handled ${handled.length}` });
    await until(async () => (await publisher.pendingItems()) === 0, {
      message: 'all acknowledged',
    });
    await publisher.publish(100); // a new listing: older emptied segments go
    await until(async () => (await segmentsOf(zk, path, 'items')).length === 1, {
      message: 'segments removed',
    });
    expect(await segmentsOf(zk, path, 'items')).not.toContain(0);
    const outcome = await stale.publish(200).then(
      () => 'ok',
      (error: unknown) => `${(error as Error).constructor.name}: ${(error as Error).message}`,
    );
    const again = await stale.publish(201).then(
      () => 'ok',
      (error: unknown) => `${(error as Error).constructor.name}: ${(error as Error).message}`,
    );
    await consumer.stop();
    await Promise.all([publisher.close(), stale.close()]);
    expect({ outcome, again }).toEqual({ outcome: 'ok', again: 'ok' });
  }, 60_000);

  it('log: a writer that learned segment 0 can still publish after retention removed it', async () => {
    const zk = connections.zk;
    const topic = '/segf/log-removed';
    const options = {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
      segments: { rolloverAt: 3 },
    };
    const log = new BroadcastLog<number>(zk, topic, options);
    const stale = new BroadcastLog<number>(await connections.open(), topic, options);
    await stale.publish(-1);
    for (let n = 0; n < 10; n++) await log.publish(n);
    const { received } = collect(log, 'r');
    await until(() => received.length >= 11, { message: () => `received ${received.length}` });
    await until(
      async () => (await log.committedOffsets()).get('r') === (await log.stats()).lastOffset,
      { message: 'committed' },
    );
    await log.compact();
    expect(await segmentsOf(zk, topic, 'log')).not.toContain(0);
    const outcome = await stale.publish(200).then(
      () => 'ok',
      (error: unknown) => `${(error as Error).constructor.name}: ${(error as Error).message}`,
    );
    await Promise.all([log.close(), stale.close()]);
    expect(outcome).toBe('ok');
  }, 60_000);

  it('log: a defaultAcl without ADMIN (the rollover-failed case of the README) keeps subscribers alive and writers in one segment', async () => {
    const noAdmin: Acl[] = [{ scheme: 'world', id: 'anyone', perms: 1 | 2 | 4 | 8 }];
    const zk = await connections.open({
      namespace: `${connections.namespace}/noadmin`,
      defaultAcl: noAdmin,
    });
    const topic = '/segf/log-noadmin';
    const options = { lingerMs: 0, segments: { rolloverAt: 3 } };
    const log = new BroadcastLog<number>(zk, topic, options);
    const events: BroadcastLogEvent[] = [];
    log.events$.subscribe((event) => events.push(event));
    const { received, errors } = collect(log, 'r');
    await until(async () => (await log.committedOffsets()).has('r'), { message: 'registered' });
    for (let n = 0; n < 8; n++) await log.publish(n);
    // A second process starting now picks its write segment from the listing.
    const fresh = new BroadcastLog<number>(
      await connections.open({
        namespace: `${connections.namespace}/noadmin`,
        defaultAcl: noAdmin,
      }),
      topic,
      options,
    );
    await fresh.publish(100);
    await until(
      () => received.length >= 9 && events.some((event) => event.type === 'rollover-failed'),
      {
        message: () =>
          `received ${received.length} of 9, events ${events.map((event) => event.type).join(', ')}`,
      },
    );
    const segments = await segmentsOf(zk, topic, 'log');
    const perSegment = await Promise.all(
      segments.map(async (index) => [
        index,
        (await zk.getChildren(`${topic}/${index === 0 ? 'log' : `log.${index}`}`)).length,
      ]),
    );
    const failedRolls = events.filter((event) => event.type === 'rollover-failed').length;
    const report = {
      received: received.length,
      subscriberErrors: errors.map((error) => (error as Error).constructor.name),
      failedRolls,
      perSegment,
    };
    await Promise.all([log.close(), fresh.close()]);
    // Without ADMIN nothing can be sealed: the roll fails before it creates a segment, so the
    // log stays one segment (every writer in it); the failure is reported, not retried per write.
    expect(report.subscriberErrors).toEqual([]);
    expect(report.received).toBe(9);
    expect(report.perSegment.map(([index]) => index)).toEqual([0]); // retention may have compacted it
    expect(report.failedRolls).toBe(1);
  }, 60_000);

  it('log: a subscriber without ADMIN (roller has it) survives many rolls', async () => {
    const namespace = `${connections.namespace}/ro`;
    const owner = await connections.open({
      namespace,
      auth: [{ scheme: 'digest', credentials: 'owner:right' }],
      defaultAcl: [digestAcl('owner', 'right'), { scheme: 'world', id: 'anyone', perms: 15 }],
    });
    const reader = await connections.open({ namespace });
    const topic = '/segf/log-ro';
    const options = { lingerMs: 0, segments: { rolloverAt: 1 } };
    const log = new BroadcastLog<number>(owner, topic, options);
    await log.publish(-1);
    const { received, errors } = collect(new BroadcastLog<number>(reader, topic, options), 'ro');
    await until(() => received.length >= 1, { message: 'first' });
    for (let n = 0; n < 40; n++) {
      await log.publish(n);
      // Pacing, not synchronisation: the reader follows the rolls one by one, not all at once.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(() => received.length >= 41 || errors.length > 0, {
      message: () => `received ${received.length}`,
    });
    await log.close();
    expect(errors).toEqual([]);
  }, 60_000);

  it('relay: keeps relaying after another writer rolled the log and retention removed the segment it last wrote to', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
    const election = new LeaderElection(zk, '/segf/relay/master', {
      participantId: 'm',
      logger: quiet,
    });
    await election.start();
    await firstMatch(election.isLeader$, Boolean, { message: 'leadership', timeoutMs: 20_000 });
    const options = {
      lingerMs: 0,
      commitIntervalMs: 10,
      retention: { auto: false },
      segments: { rolloverAt: 3 },
    };
    const log = new BroadcastLog<number>(zk, '/segf/relay/log', options);
    const inbox = new WorkQueue<number>(zk, '/segf/relay/inbox', { lingerMs: 0 });
    const relay = await log.relay(inbox, { fence: election });
    const failures: unknown[] = [];
    relay.events$.subscribe((event) => event.type === 'relay-failed' && failures.push(event.error));
    const { received } = collect(log, 'r');
    await inbox.publish(0); // the relay learns segment 0
    await until(() => received.length >= 1, { message: 'first relayed' });
    const other = new BroadcastLog<number>(await connections.open(), '/segf/relay/log', options);
    for (let n = 1; n <= 10; n++) await other.publish(n);
    await until(() => received.length >= 11, { message: () => `received ${received.length}` });
    await until(
      async () => (await log.committedOffsets()).get('r') === (await log.stats()).lastOffset,
      { message: 'committed' },
    );
    await other.compact();
    expect(await segmentsOf(zk, '/segf/relay/log', 'log')).not.toContain(0);
    await inbox.publish(11);
    await until(() => received.length >= 12, { message: () => `received ${received.length}` });
    await relay.stop();
    await Promise.all([log.close(), other.close(), inbox.close()]);
    await election.close();
    expect(received.length).toBe(12);
  }, 60_000);

  it('log: a newer segment made by something else ahead of a seal holds up a reader without ADMIN until the seal, without failing it', async () => {
    const namespace = `${connections.namespace}/cut`;
    const owner = await connections.open({
      namespace,
      auth: [{ scheme: 'digest', credentials: 'owner:right' }],
      defaultAcl: [digestAcl('owner', 'right'), { scheme: 'world', id: 'anyone', perms: 15 }],
    });
    const reader = await connections.open({ namespace });
    const topic = '/segf/log-cut';
    const options = { lingerMs: 0, segments: { rolloverAt: 1000 } };
    const log = new BroadcastLog<number>(owner, topic, options);
    await log.publish(0);
    const { received, errors } = collect(new BroadcastLog<number>(reader, topic, options), 'ro');
    await until(() => received.length >= 1, { message: 'first' });
    await owner.create(`${topic}/log.1`, ''); // not by a roll: segment 0 is not sealed
    const fresh = new BroadcastLog<number>(owner, topic, options);
    await fresh.publish(1);
    // Nothing may arrive here, and an absence has no event to await: the pause gives a wrong
    // delivery (or a failure) time to show.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(errors).toEqual([]);
    expect(received.map(({ message }) => message)).toEqual([0]);
    await log.segments.seal(0); // the owner may
    await until(() => received.length >= 2, { message: () => `received ${received.length}` });
    expect(received.map(({ message }) => message)).toEqual([0, 1]);
    await Promise.all([log.close(), fresh.close()]);
  }, 60_000);

  it('queue: a consumer does not pile up watchers on the queue node, one per listing read', async () => {
    const zk = await connections.open();
    const path = '/segf/queue-watchers';
    const queue = new WorkQueue<number>(zk, path, { lingerMs: 0 });
    const publisher = new WorkQueue<number>(await connections.open(), path, { lingerMs: 0 });
    const handled: number[] = [];
    const consumer = await queue.consume((message) => void handled.push(message));
    await publisher.publish(-1);
    await until(() => handled.length >= 1, { message: 'first' });
    const before = zk.pendingWatchCount;
    for (let n = 0; n < 200; n++) {
      await publisher.publish(n);
      await until(() => handled.length >= n + 2, { message: () => `handled ${handled.length}` });
    }
    const after = zk.pendingWatchCount;
    await consumer.stop();
    await Promise.all([queue.close(), publisher.close()]);
    expect(after - before).toBeLessThan(20);
  }, 60_000);

  it('queue: a listing read dropped by invalidate() right after a roll still leaves the consumer seeing the new segment', async () => {
    const zk = connections.zk;
    const queue = new WorkQueue<number>(zk, '/segf/listing-invalidate', {
      lingerMs: 0,
      segments: { rolloverAt: 2 },
    });
    await queue.publish(0);
    let changes = 0;
    const listing = new ItemListing(zk, queue.segments, () => changes++);
    await listing.read(true);
    for (let n = 1; n < 4; n++) await queue.publish(n); // the third batch rolls items over
    expect(await segmentsOf(zk, '/segf/listing-invalidate', 'items')).toEqual([0, 1]);
    await until(() => changes > 0, { message: 'a watch fired' });
    const dropped = listing.read(true);
    listing.invalidate(); // e.g. a turn in the line, or a reconnect, while the read is out
    await dropped;
    await listing.read(true);
    const seen: number[] = [];
    for (let entry = listing.next(() => false); entry; entry = listing.next(() => false)) {
      seen.push(entry.segment);
      listing.markGone(entry.name);
    }
    expect(seen).toEqual([0, 0, 0, 1]);
    await queue.close();
  });

  it('queue: after a roll by the owner, a publisher that may only create (and read) still publishes: the next segment keeps the old ACL', async () => {
    const namespace = `${connections.namespace}/acl`;
    const publishOnly: Acl = { scheme: 'world', id: 'anyone', perms: 1 | 4 };
    const owner = await connections.open({
      namespace,
      auth: [{ scheme: 'digest', credentials: 'owner:right' }],
      defaultAcl: [digestAcl('owner', 'right'), publishOnly],
    });
    const path = '/segf/acl-queue';
    const options = { lingerMs: 0, segments: { rolloverAt: 2 } };
    const owned = new WorkQueue<number>(owner, path, options);
    await owned.publish(0);
    const anonymous = new WorkQueue<number>(await connections.open({ namespace }), path, options);
    await anonymous.publish(100); // learns segment 0
    for (let n = 1; n < 4; n++) await owned.publish(n); // the owner rolls (it has ADMIN)
    const segments = await segmentsOf(owner, path, 'items');
    expect(segments.length).toBeGreaterThan(1);
    await anonymous.publish(101); // refused by the seal, then created in the newest segment
    const newest = await owner.getAcl(`${path}/items.${segments.at(-1)}`);
    const root = await owner.getAcl(`${path}/items`);
    expect(newest.acl).toEqual([
      expect.objectContaining({ scheme: 'digest', perms: 31 }),
      expect.objectContaining(publishOnly),
    ]);
    expect(root.acl.every((entry) => (entry.perms & 4) === 0)).toBe(true); // sealed
    expect(await owned.pendingItems()).toBe(6);
    await Promise.all([owned.close(), anonymous.close()]);
  });
});
