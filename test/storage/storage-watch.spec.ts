import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  StorageEntry,
  StorageTreeEvent,
  watchRegistryStats,
  ZookeeperConnection,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { firstMatch } from '../support/until.js';
import { isStrictlyIncreasing, Recorder, settled } from '../support/watch-helpers.js';

const connections = useTestConnections('storage-watch');
let watcherZk: ZookeeperConnection;
let watching: ZookeeperStorage;
let writing: ZookeeperStorage;

beforeAll(async () => {
  watcherZk = connections.zk;
  watching = new ZookeeperStorage(watcherZk);
  writing = new ZookeeperStorage(await connections.open());
});

const versionsOf = (values: ReadonlyArray<StorageEntry<unknown> | undefined>) =>
  values.map((entry) => entry!.version);

describe('storage watches', () => {
  it('watch: emits the current entry, then changes in version order while 1,000 updates are made, ending on the last', async () => {
    await writing.set('config', { n: 0 });
    const seen = new Recorder(watching.watch<{ n: number }>('config'));
    await seen.until((entry) => entry?.value.n === 0, 'the initial value');
    for (let n = 1; n <= 1000; n++) await writing.set('config', { n });
    await seen.until((entry) => entry?.value.n === 1000, 'the last value');
    expect(isStrictlyIncreasing(versionsOf(seen.values))).toBe(true);
    for (const entry of seen.values) expect(entry!.value.n).toBe(entry!.version);
    seen.unsubscribe();
  });

  it('watch: undefined for a missing key, then its creation, chunked values, and deletion', async () => {
    const seen = new Recorder(watching.watch<string>('later'));
    await seen.until((entry) => entry === undefined, 'absence');
    const big = randomBytes(3 * 1024 * 1024).toString('base64');
    await writing.set('later', big);
    await seen.until((entry) => entry?.value === big, 'the chunked value');
    await writing.set('later', 'small');
    await seen.until((entry) => entry?.value === 'small', 'the small value');
    await writing.delete('later');
    await seen.until((entry) => entry === undefined, 'deletion');
    seen.unsubscribe();
  });

  it('one ZooKeeper watch serves many subscribers, and nothing accumulates over 10,000 updates', async () => {
    await writing.set('hot', 0);
    await settled();
    const baseline = watchRegistryStats(watcherZk);
    const basePending = watcherZk.pendingWatchCount;
    const subscribers = [1, 2, 3].map(() => new Recorder(watching.watch<number>('hot')));
    await Promise.all(
      subscribers.map((seen) => seen.until((entry) => entry?.value === 0, 'the initial value')),
    );
    await settled();
    const steady = watchRegistryStats(watcherZk);
    expect(steady).toMatchObject({
      activeLoops: baseline.activeLoops + 1,
      subscribers: baseline.subscribers + 3,
      armedWatches: baseline.armedWatches + 1,
    });
    let maxPending = 0;
    for (let done = 0; done < 10_000; done += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => writing.set('hot', done + i + 1)));
      maxPending = Math.max(maxPending, watcherZk.pendingWatchCount - basePending);
    }
    await Promise.all(
      subscribers.map((seen) => seen.until((entry) => entry?.value === 10_000, 'the last value')),
    );
    await settled();
    expect(maxPending).toBeLessThanOrEqual(1);
    expect(watchRegistryStats(watcherZk)).toEqual(steady);
    for (const seen of subscribers) {
      expect(isStrictlyIncreasing(versionsOf(seen.values))).toBe(true);
      seen.unsubscribe();
    }
  }, 120_000);

  it('watchChildren: sorted child keys on every membership change, bookkeeping hidden', async () => {
    const seen = new Recorder(watching.watchChildren('members'));
    await seen.until((keys) => keys.length === 0, 'no members');
    await writing.setMany(
      Array.from({ length: 30 }, (_, i) => [`members/m${String(i).padStart(2, '0')}`, i] as const),
    );
    await seen.until((keys) => keys.length === 30, '30 members');
    for (let i = 0; i < 10; i++) await writing.delete(`members/m${String(i).padStart(2, '0')}`);
    const last = await seen.until((keys) => keys.length === 20, '20 members');
    expect(last).toEqual(
      Array.from({ length: 20 }, (_, i) => `members/m${String(i + 10).padStart(2, '0')}`),
    );
    const rootKeys = await new Promise<string[]>((resolve) => {
      const subscription = watching.watchChildren().subscribe((keys) => {
        resolve(keys);
        queueMicrotask(() => subscription.unsubscribe());
      });
    });
    expect(rootKeys.some((key) => key.startsWith('__'))).toBe(false);
    seen.unsubscribe();
  });

  it('watchTree over 500 keys under churn converges to the exact server state, and its events rebuild it', async () => {
    const tree = writing.scope('tree');
    await tree.setMany(
      Array.from({ length: 500 }, (_, i) => [`k${i % 25}/item${i}`, { i, v: 0 }] as const),
    );
    const cache = watching.watchTree<{ i: number; v: number }>('tree');
    const replay = new Map<string, unknown>();
    const events: Array<StorageTreeEvent<{ i: number; v: number }>> = [];
    const subscription = cache.events$.subscribe((event) => {
      events.push(event);
      if (event.type === 'initialized')
        for (const [key, entry] of event.entries) replay.set(key, entry.value);
      else if (event.type === 'removed') replay.delete(event.key);
      else replay.set(event.key, event.entry.value);
    });
    await cache.start();
    await settled();
    expect([...cache.current().keys()].filter((key) => key.includes('/item'))).toHaveLength(500);

    const churners = [writing, new ZookeeperStorage(await connections.open())].map((storage) =>
      storage.scope('tree'),
    );
    await Promise.all(
      churners.map(async (churner, writer) => {
        for (let round = 0; round < 300; round++) {
          const i = (round * 7 + writer * 13) % 500;
          const key = `k${i % 25}/item${i}`;
          if (round % 5 === 0) await churner.delete(key).catch(() => undefined);
          else if (round % 5 === 1)
            await churner.set(`k${i % 25}/new${writer}-${round}`, { i, v: round });
          else await churner.set(key, { i, v: round });
        }
      }),
    );

    // The prefix is a key too (an intermediate node, value null).
    const expected = new Map<string, unknown>([['tree', await watching.getValue('tree')]]);
    const walk = async (prefix: string): Promise<void> => {
      for (const key of await watching.list(prefix)) {
        expected.set(key, (await watching.get(key))!.value);
        await walk(key);
      }
    };
    await walk('tree');
    // Converged when the cache holds exactly what a fresh read finds.
    const matches = () => {
      const current = new Map([...cache.current()].map(([key, entry]) => [key, entry.value]));
      return JSON.stringify([...current].sort()) === JSON.stringify([...expected].sort());
    };
    if (!matches()) {
      await firstMatch(cache.events$, matches, {
        message: 'the tree cache to converge',
        timeoutMs: 20_000,
      });
    }
    await settled();
    expect(new Map([...cache.current()].map(([key, entry]) => [key, entry.value]))).toEqual(
      expected,
    );
    expect(replay).toEqual(expected);
    expect(events[0].type).toBe('initialized');
    subscription.unsubscribe();
    cache.close();
  }, 120_000);
});
