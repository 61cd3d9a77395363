import { beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom, toArray } from 'rxjs';
import {
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  TreeCache,
  watchRegistryStats,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import {
  convergence,
  EventReplay,
  readTree,
  sortedEntries,
  viewOf,
  settled,
} from '../support/watch-helpers.js';

const connections = useTestConnections('tree-cache');
let writers: ZookeeperConnection[];

beforeAll(async () => {
  writers = [connections.zk, await connections.open()];
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function tolerate(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    // Concurrent writers race for the same paths; these outcomes are part of the churn.
    const expected = [NoNodeError, NodeExistsError, NotEmptyError].some(
      (type) => error instanceof type,
    );
    if (!expected) throw error;
  }
}

const leaf = (i: number) => `/tree/g${i % 10}/s${Math.floor(i / 10) % 5}/k${Math.floor(i / 50)}`;

async function churn(writer: ZookeeperConnection, seed: number, rounds: number): Promise<void> {
  const next = random(seed);
  const pick = (n: number) => Math.floor(next() * n);
  for (let round = 0; round < rounds; round++) {
    const batch = Array.from({ length: 25 }, (_, op) => {
      const path = leaf(pick(600)); // some of these never existed
      const roll = next();
      if (roll < 0.45) return writer.set(path, `${seed}:${round}:${op}`);
      if (roll < 0.65) return writer.delete(path);
      if (roll < 0.85) return writer.create(path, 'new', { createParents: true });
      if (roll < 0.97) return writer.create(`${path}/deep${pick(3)}`, 'd', { createParents: true });
      return writer.delete(`/tree/g${pick(10)}/s${pick(5)}`, { recursive: true });
    });
    await Promise.all(batch.map(tolerate));
  }
}

describe('TreeCache', () => {
  it('loads 500 keys, follows churn from two writers and converges to the exact server state', async () => {
    const zk = await connections.open();
    for (let from = 0; from < 500; from += 100) {
      const keys = Array.from({ length: 100 }, (_, i) => from + i);
      await Promise.all(
        keys.map((i) => tolerate(writers[i % 2].create(leaf(i), `v${i}`, { createParents: true }))),
      );
    }
    const cache = new TreeCache(zk, '/tree');
    const replay = new EventReplay();
    const events = cache.events$.subscribe((event) => replay.apply(event));
    await cache.start();

    const loaded = await readTree(writers[0], '/tree');
    expect(loaded.size).toBe(1 + 10 + 50 + 500);
    expect(sortedEntries(viewOf(cache.current()))).toEqual(sortedEntries(loaded));
    expect(replay.initialized).toBe(true);

    await Promise.all([churn(writers[0], 1, 24), churn(writers[1], 2, 24)]);
    const expected = await readTree(writers[0], '/tree');
    await convergence(cache, expected);

    expect(replay.problems).toEqual([]);
    expect(sortedEntries(viewOf(replay.view))).toEqual(sortedEntries(viewOf(cache.current())));
    expect(replay.counts.added).toBeGreaterThan(0);
    expect(replay.counts.updated).toBeGreaterThan(0);
    expect(replay.counts.removed).toBeGreaterThan(0);
    expect(cache.get('/tree')?.stat.mzxid).toBe(expected.get('/tree')!.mzxid);
    await settled();
    if (zk.capabilities.persistentWatches) {
      // One persistent recursive watch on the root, no read loop.
      expect(zk.pendingWatchCount).toBe(1);
      expect(watchRegistryStats(zk)).toMatchObject({ activeLoops: 0, parkedLoops: 0 });
    } else {
      // One data and one child watch per cached node, nothing else.
      expect(zk.pendingWatchCount).toBe(2 * expected.size);
      expect(watchRegistryStats(zk)).toMatchObject({
        activeLoops: 2 * expected.size,
        parkedLoops: 0,
      });
    }

    await cache.close();
    events.unsubscribe();
    expect(cache.current().size).toBe(0);
    // A persistent watch is removed; one-shot watches stay until they fire.
    if (zk.capabilities.persistentWatches) expect(zk.pendingWatchCount).toBe(0);
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 0,
      subscribers: 0,
      stateListeners: 0,
    });
  });

  it('starts empty when the root is missing, then follows its creation and recursive deletion', async () => {
    const zk = await connections.open();
    const cache = new TreeCache(zk, '/later');
    const replay = new EventReplay();
    cache.events$.subscribe((event) => replay.apply(event));
    await cache.start();
    expect(cache.current().size).toBe(0);

    await writers[0].create('/later/a/b', 'deep', { createParents: true });
    await writers[0].create('/later/c', 'leaf');
    const created = await readTree(writers[0], '/later');
    await convergence(cache, created);
    expect([...cache.current().keys()].sort()).toEqual([
      '/later',
      '/later/a',
      '/later/a/b',
      '/later/c',
    ]);

    await writers[0].delete('/later', { recursive: true });
    await convergence(cache, new Map());
    expect(replay.problems).toEqual([]);
    expect(replay.view.size).toBe(0);
    expect(replay.counts).toEqual({ added: 4, updated: 0, removed: 4 });
    cache.close();
  });

  it('gives a late subscriber an initialized snapshot of the current view, and completes on close', async () => {
    const zk = await connections.open();
    await writers[0].create('/late/x', '1', { createParents: true });
    const cache = new TreeCache(zk, '/late');
    await cache.start();
    await writers[0].set('/late/x', '2');
    await convergence(cache, await readTree(writers[0], '/late'));

    const seen = firstValueFrom(cache.events$.pipe(toArray()));
    cache.close();
    const events = await seen;
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('initialized');
    const snapshot = events[0].type === 'initialized' ? events[0].snapshot : new Map();
    expect(snapshot.get('/late/x')?.data.toString()).toBe('2');
    expect(await cache.start()).toBeUndefined();
  });
});
