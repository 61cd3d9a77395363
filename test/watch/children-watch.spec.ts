import { describe, expect, it } from '@jest/globals';
import { watchChildren, watchRegistryStats } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { Recorder, settled } from '../support/watch-helpers.js';

const connections = useTestConnections('watch-children');

const names = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, '0')}`);
const sameList = (expected: string[]) => (list: string[]) =>
  list.length === expected.length && list.every((name, i) => name === expected[i]);

describe('watchChildren', () => {
  it('converges on membership changes (add 50, remove 20), emitting sorted lists and no repeats', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/members');
    const watched = new Recorder(watchChildren(zk, '/members'));
    await watched.until(sameList([]), 'the empty list');

    const added = names('member-', 0, 50);
    await Promise.all(added.map((name) => writer.create(`/members/${name}`)));
    await watched.until(sameList(added), 'all 50 members');

    const removed = added.filter((_, i) => i % 5 < 2); // 20 of them
    await Promise.all(removed.map((name) => writer.delete(`/members/${name}`)));
    const remaining = added.filter((name) => !removed.includes(name));
    await watched.until(sameList(remaining), 'the 30 remaining members');

    expect(await writer.getChildren('/members')).toHaveLength(30);
    for (const list of watched.values) expect(list).toEqual([...list].sort());
    watched.values.forEach((list, i) => {
      if (i > 0) expect(list).not.toEqual(watched.values[i - 1]);
    });
    await settled();
    expect(zk.pendingWatchCount).toBe(1);
    watched.unsubscribe();
  });

  it('emits [] while the parent is missing, then its children once it is created; back to [] when deleted', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    const watched = new Recorder(watchChildren(zk, '/later'));
    await watched.until(sameList([]), '[] for a missing parent');
    await settled();
    expect(zk.pendingWatchCount).toBe(1); // exists watch on the parent

    await writer.create('/later');
    await writer.create('/later/a');
    await writer.create('/later/b');
    await watched.until(sameList(['a', 'b']), 'the children of the new parent');

    await writer.delete('/later', { recursive: true });
    await watched.until(sameList([]), '[] after the parent is deleted');
    await writer.create('/later/c', '', { createParents: true });
    await watched.until(sameList(['c']), 'the child of the re-created parent');
    expect(watched.values[0]).toEqual([]);
    watched.values.forEach((list, i) => {
      if (i > 0) expect(list).not.toEqual(watched.values[i - 1]);
    });
    watched.unsubscribe();
  });

  it('shares one loop between subscribers and replays the current list to a late one', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/club');
    await Promise.all(['x', 'y'].map((name) => writer.create(`/club/${name}`)));
    const first = new Recorder(watchChildren(zk, '/club'));
    await first.until(sameList(['x', 'y']), 'x and y');
    const late = new Recorder(watchChildren(zk, '/club'));
    expect(late.values).toEqual([['x', 'y']]);
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 1,
      subscribers: 2,
      armedWatches: 1,
    });

    await writer.create('/club/z');
    await Promise.all([first, late].map((r) => r.until(sameList(['x', 'y', 'z']), 'x, y and z')));
    // Each subscriber gets its own array: sorting or changing it cannot affect the other.
    expect(first.latest).not.toBe(late.latest);
    await settled();
    expect(zk.pendingWatchCount).toBe(1);
    first.unsubscribe();
    late.unsubscribe();
  });
});
