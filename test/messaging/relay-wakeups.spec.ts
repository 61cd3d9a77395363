import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import {
  BroadcastLog,
  LeaderElection,
  SegmentListing,
  WorkQueue,
  type LogRelay,
  type RelaySource,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { firstMatch, until } from '../support/until.js';

const connections = useTestConnections('relay-wakeups');
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

/**
 * The relay's source with its listings handed in by the test (a Subject), over a real queue:
 * the test decides when each listing comes, down to the microtask.
 */
function scriptedSource(queue: WorkQueue<number>) {
  const listings = new Subject<SegmentListing>();
  const segments = Object.assign(Object.create(queue.segments) as typeof queue.segments, {
    watchEntries: () => listings.asObservable(),
  });
  const source: RelaySource = { connection: queue.connection, segments };
  return { source, listings };
}

describe('LogRelay wake-ups', () => {
  // A listing that arrived as a relay pass was ending (its loop had found nothing new, its
  // "draining" flag not yet cleared) was left unrelayed until the next change of the queue: the
  // last messages of a burst then stayed in the inbox. Every microtask depth is tried.
  it('a listing that comes just as a pass ends is relayed, whatever the microtask it comes in', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const election = new LeaderElection(zk, '/wakeups/master', {
      participantId: 'm',
      logger: quiet,
    });
    await election.start();
    await firstMatch(election.isLeader$, Boolean, { message: 'leadership', timeoutMs: 20_000 });
    for (let depth = 0; depth < 8; depth++) {
      const queue = new WorkQueue<number>(zk, `/wakeups/inbox-${depth}`, { lingerMs: 0 });
      const log = new BroadcastLog<number>(zk, `/wakeups/log-${depth}`);
      await queue.publish(1);
      const first: SegmentListing = { indices: [0], entries: await queue.segments.entries() };
      await queue.publish(2);
      const second: SegmentListing = { indices: [0], entries: await queue.segments.entries() };
      const { source, listings } = scriptedSource(queue);
      const relay: LogRelay = await log.relay(source, { fence: election });
      const internals = relay as unknown as {
        relayAll: (entries: SegmentListing['entries']) => Promise<void>;
      };
      const relayAll = internals.relayAll.bind(relay);
      let injected = false;
      internals.relayAll = async (entries) => {
        await relayAll(entries);
        if (injected) return;
        injected = true;
        let hop = () => listings.next(second);
        for (let level = 0; level < depth; level++) {
          const inner = hop;
          hop = () => queueMicrotask(inner);
        }
        queueMicrotask(hop);
      };
      listings.next(first);
      await until(() => relay.relayed === 2, {
        message: () => `depth ${depth}: relayed ${relay.relayed} of 2`,
        timeoutMs: 3000,
      });
      expect(await queue.pendingItems()).toBe(0);
      await relay.stop();
      await Promise.all([log.close(), queue.close()]);
    }
    await election.close();
  }, 60_000);
});
