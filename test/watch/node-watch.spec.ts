import { describe, expect, it, jest } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import {
  activeWatchCount,
  digestAcl,
  InvalidPathError,
  NoAuthError,
  NodeSnapshot,
  watchNode,
  watchRegistryStats,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import {
  isStrictlyIncreasing,
  nextDataEvent,
  Recorder,
  settled,
} from '../support/watch-helpers.js';

// `connections.zk` writes; each test watches through a connection of its own, so watch counts
// never include another's.
const connections = useTestConnections('watch-node');

const versionIs = (version: number) => (node: NodeSnapshot | undefined) =>
  node?.stat.version === version;

describe('watchNode', () => {
  it('emits versions in strictly increasing order during 1,000 updates and ends on the final value', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/counter', 'initial');
    const watched = new Recorder(watchNode(zk, '/counter'));
    await watched.until(versionIs(0), 'the initial value');

    const written = new Map<number, string>([[0, 'initial']]);
    for (let batch = 0; batch < 20; batch++) {
      const values = Array.from({ length: 50 }, (_, i) => `value-${batch * 50 + i}`);
      const stats = await Promise.all(values.map((value) => writer.set('/counter', value)));
      stats.forEach((stat, i) => written.set(stat.version, values[i]));
    }
    const final = (await watched.until(versionIs(1000), 'version 1000'))!;

    expect(final.data.toString()).toBe(written.get(1000));
    const versions = watched.values.map((node) => node!.stat.version);
    expect(isStrictlyIncreasing(versions)).toBe(true);
    // Every emission is a state the server really had: the data written at that version.
    for (const node of watched.values)
      expect(node!.data.toString()).toBe(written.get(node!.stat.version));
    expect(versions.length).toBeGreaterThan(1);
    expect(versions.length).toBeLessThanOrEqual(1001);
    watched.unsubscribe();
  });

  it('shares one read loop and one pending watch between subscribers; a late one gets the current value at once', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/shared', 'v0');
    const getSpy = jest.spyOn(zk, 'get');
    const first = new Recorder(watchNode(zk, '/shared'));
    const second = new Recorder(watchNode(zk, '/shared'));
    await Promise.all([first.until(versionIs(0), 'v0'), second.until(versionIs(0), 'v0')]);
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 1,
      subscribers: 2,
      armedWatches: 1,
    });
    expect(zk.pendingWatchCount).toBe(1);

    for (let i = 1; i <= 20; i++) await writer.set('/shared', `v${i}`);
    await Promise.all([first.until(versionIs(20), 'v20'), second.until(versionIs(20), 'v20')]);
    expect(second.values).toEqual(first.values);
    // One read per emission, not one per subscriber.
    expect(getSpy.mock.calls.filter(([path]) => path === '/shared')).toHaveLength(
      first.values.length,
    );
    getSpy.mockRestore();

    const late = new Recorder(watchNode(zk, '/shared'));
    expect(late.values).toHaveLength(1); // synchronously, from the shared loop
    expect(late.latest!.data.toString()).toBe('v20');
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({ activeLoops: 1, subscribers: 3 });
    expect(zk.pendingWatchCount).toBe(1);
    // A subscriber that leaves during the replay (firstValueFrom) is counted out at once.
    expect((await firstValueFrom(watchNode(zk, '/shared')))!.data.toString()).toBe('v20');
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({ activeLoops: 1, subscribers: 3 });

    // Leaving and coming back adopts the watch still pending on the server instead of adding one.
    for (const recorder of [first, second, late]) recorder.unsubscribe();
    await settled();
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 0,
      parkedLoops: 1,
      stateListeners: 0,
    });
    const again = new Recorder(watchNode(zk, '/shared'));
    await again.until(versionIs(20), 'v20 after resubscribing');
    await settled();
    expect(zk.pendingWatchCount).toBe(1);
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 1,
      parkedLoops: 0,
      armedWatches: 1,
    });

    // Once nobody listens, the pending watch is the last thing left; when it fires, nothing is.
    again.unsubscribe();
    const ours = await nextDataEvent(zk, '/shared');
    await writer.set('/shared', 'v21');
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

  it('emits undefined when the node is deleted and the new node when it is created again', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/phoenix', 'first life');
    const watched = new Recorder(watchNode(zk, '/phoenix'));
    const first = (await watched.until((node) => node !== undefined, 'the first node'))!;

    await writer.delete('/phoenix');
    await watched.until((node) => node === undefined, 'the deletion');
    await settled();
    expect(zk.pendingWatchCount).toBe(1); // the exists watch waiting for a creation

    await writer.create('/phoenix', 'second life');
    const second = (await watched.until(
      (node) => node?.data.toString() === 'second life',
      'the new node',
    ))!;
    expect(second.stat.czxid).toBeGreaterThan(first.stat.czxid);
    expect(second.stat.version).toBe(0);
    expect(watched.values.map((node) => node?.data.toString())).toEqual([
      'first life',
      undefined,
      'second life',
    ]);
    watched.unsubscribe();
  });

  it('starts with undefined for a missing node and sees its creation, even racing with create and delete', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    const watched = new Recorder(watchNode(zk, '/not-yet'));
    await watched.until((node) => node === undefined, 'undefined');
    for (let round = 0; round < 20; round++) {
      await writer.create('/not-yet', `round ${round}`);
      await writer.delete('/not-yet');
    }
    await writer.create('/not-yet', 'here to stay');
    await watched.until((node) => node?.data.toString() === 'here to stay', 'the final node');
    const czxids = watched.values.filter(Boolean).map((node) => node!.stat.czxid);
    expect(isStrictlyIncreasing(czxids)).toBe(true);
    await settled();
    expect(zk.pendingWatchCount).toBe(1);
    watched.unsubscribe();
  });

  it('reports NoAuth to the subscriber as an error and keeps no loop for it', async () => {
    const writer = connections.zk;
    const zk = await connections.open();
    await writer.create('/secret', 'hidden', { acl: [digestAcl('someone', 'else')] });
    const watched = new Recorder(watchNode(zk, '/secret'));
    await watched.whenEnded();
    expect(watched.error).toBeInstanceOf(NoAuthError);
    expect(watchRegistryStats(zk)).toMatchObject({ activeLoops: 0, subscribers: 0 });
  });

  it('completes when the connection is closed, and at once for a closed connection', async () => {
    const writer = connections.zk;
    const doomed = await connections.open();
    await writer.create('/closing', 'x');
    const watched = new Recorder(watchNode(doomed, '/closing'));
    await watched.until((node) => node !== undefined, 'the node');
    await doomed.close();
    await watched.whenEnded();
    expect(watched.completed).toBe(true);
    expect(watched.error).toBeUndefined();
    expect(activeWatchCount(doomed)).toBe(0);
    expect(doomed.pendingWatchCount).toBe(0);

    const afterClose = new Recorder(watchNode(doomed, '/closing'));
    expect(afterClose.completed).toBe(true);
  });

  it('rejects an invalid path at once', () => {
    const writer = connections.zk;
    expect(() => watchNode(writer, 'relative/path')).toThrow(InvalidPathError);
  });
});
