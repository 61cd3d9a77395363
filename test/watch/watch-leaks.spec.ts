import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  activeWatchCount,
  NodeSnapshot,
  watchNode,
  watchRegistryStats,
  WatchRegistryStats,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import {
  isStrictlyIncreasing,
  nextDataEvent,
  Recorder,
  settled,
} from '../support/watch-helpers.js';

const connections = useTestConnections('watch-leaks');
let zk: ZookeeperConnection;
let writer: ZookeeperConnection;

beforeAll(async () => {
  [zk, writer] = [connections.zk, await connections.open()];
});

const UPDATES = 10_000;
const BATCH = 100;

describe('watch layer bookkeeping', () => {
  it(`keeps one pending watch and constant bookkeeping through ${UPDATES} updates, and nothing once unsubscribed`, async () => {
    await writer.create('/hot', '0');
    const watched = new Recorder(watchNode(zk, '/hot'));
    await watched.until((node) => node !== undefined, 'the initial value');
    await settled();
    const steady: WatchRegistryStats = watchRegistryStats(zk);
    expect(steady).toEqual({
      activeLoops: 1,
      parkedLoops: 0,
      subscribers: 1,
      armedWatches: 1,
      stateListeners: 1,
    });

    let maxPending = zk.pendingWatchCount;
    const samples: WatchRegistryStats[] = [];
    for (let done = 0; done < UPDATES; done += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, (_, i) => writer.set('/hot', String(done + i + 1))),
      );
      maxPending = Math.max(maxPending, zk.pendingWatchCount);
      samples.push(watchRegistryStats(zk));
    }
    await watched.until((node) => node?.stat.version === UPDATES, `version ${UPDATES}`);

    expect(maxPending).toBeLessThanOrEqual(1);
    for (const sample of samples) {
      expect(sample).toMatchObject({
        activeLoops: 1,
        parkedLoops: 0,
        subscribers: 1,
        stateListeners: 1,
      });
      expect(sample.armedWatches).toBeLessThanOrEqual(1);
    }
    await settled();
    expect(watchRegistryStats(zk)).toEqual(steady);
    expect(zk.pendingWatchCount).toBe(1);
    const versions = watched.values.map((node: NodeSnapshot | undefined) => node!.stat.version);
    expect(isStrictlyIncreasing(versions)).toBe(true);

    watched.unsubscribe();
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 0,
      parkedLoops: 1,
      stateListeners: 0,
    });
    const ours = await nextDataEvent(zk, '/hot');
    await writer.set('/hot', 'last');
    await ours();
    expect(zk.pendingWatchCount).toBe(0);
    expect(activeWatchCount(zk)).toBe(0);
    expect(watchRegistryStats(zk)).toEqual({
      activeLoops: 0,
      parkedLoops: 0,
      subscribers: 0,
      armedWatches: 0,
      stateListeners: 0,
    });
  });

  it('leaves nothing behind after many short-lived subscriptions to many paths', async () => {
    const paths = Array.from({ length: 50 }, (_, i) => `/short-${i}`);
    await Promise.all(paths.map((path) => writer.create(path, 'x')));
    for (let round = 0; round < 5; round++) {
      const recorders = paths.map((path) => new Recorder(watchNode(zk, path)));
      await Promise.all(recorders.map((r) => r.until((node) => node !== undefined, 'a value')));
      await settled();
      expect(zk.pendingWatchCount).toBe(paths.length);
      for (const recorder of recorders) recorder.unsubscribe();
    }
    // Resubscribing adopted the parked loops: still one watch per path, never more.
    await settled();
    expect(zk.pendingWatchCount).toBe(paths.length);
    expect(watchRegistryStats(zk)).toMatchObject({ activeLoops: 0, parkedLoops: paths.length });

    const fired = await Promise.all(paths.map((path) => nextDataEvent(zk, path)));
    await Promise.all(paths.map((path) => writer.set(path, 'y')));
    await Promise.all(fired.map((event) => event()));
    expect(zk.pendingWatchCount).toBe(0);
    expect(activeWatchCount(zk)).toBe(0);
  });
});
