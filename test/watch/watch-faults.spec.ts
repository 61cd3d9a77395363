import { describe, expect, it } from '@jest/globals';
import {
  ConnectionState,
  NodeSnapshot,
  TreeCache,
  watchChildren,
  watchNode,
  watchRegistryStats,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { nextState, statesUntil } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';
import {
  convergence,
  EventReplay,
  isStrictlyIncreasing,
  readTree,
  Recorder,
  sortedEntries,
  viewOf,
  settled,
} from '../support/watch-helpers.js';

// These tests stop and restart their own server, so they never disturb other test files.
const dedicated = new DedicatedServer();
const open = (sessionTimeoutMs: number) => dedicated.connect({ sessionTimeoutMs });

/** `count` unconditional sets, pipelined in batches of 25. */
async function writeMany(writer: ZookeeperConnection, path: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => writer.set(path, `${path}#${done + i}`)),
    );
  }
}

/** What the server holds now, as the watcher's final emission must show it. */
async function serverState(writer: ZookeeperConnection, path: string) {
  const { data, stat } = await writer.get(path);
  return (node: NodeSnapshot | undefined) =>
    node?.stat.mzxid === stat.mzxid && node.data.equals(data);
}

const versionsOf = (recorder: Recorder<NodeSnapshot | undefined>) =>
  recorder.values.filter(Boolean).map((node) => node!.stat.version);

describe('watches across server restarts and session expiry (own server)', () => {
  it('converges to the final value across a restart within the session timeout (RECONNECTED)', async () => {
    // Sessions long enough to outlast the restart of a JVM on a loaded machine: with 6 s one
    // expired in CI, so RECONNECTED never came (the test is about the case within the timeout).
    const [zk, writer] = await Promise.all([open(20_000), open(20_000)]);
    await writer.create('/restart', 'start');
    const watched = new Recorder(watchNode(zk, '/restart'));
    await watched.until((node) => node !== undefined, 'the first value');
    const states = statesUntil(zk, ConnectionState.RECONNECTED);

    await writeMany(writer, '/restart', 100); // the watcher may still be reading when we stop
    await dedicated.server.stop();
    await dedicated.server.start();
    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
    await writeMany(writer, '/restart', 100);

    await watched.until(await serverState(writer, '/restart'), 'the final value');
    expect(isStrictlyIncreasing(versionsOf(watched))).toBe(true);
    await settled();
    expect(zk.pendingWatchCount).toBe(1);
    watched.unsubscribe();
  });

  it('converges across a restart that outlasts the session (EXPIRED locally, new session)', async () => {
    const [zk, writer] = await Promise.all([open(1_000), open(6_000)]);
    await writer.create('/outage', 'start');
    await writer.create('/outage-children');
    const node = new Recorder(watchNode(zk, '/outage'));
    const children = new Recorder(watchChildren(zk, '/outage-children'));
    await node.until((value) => value !== undefined, 'the first value');
    const session = zk.session.id;
    const reconnected = nextState(zk, ConnectionState.CONNECTED);

    await writeMany(writer, '/outage', 50);
    await dedicated.server.stop();
    await nextState(zk, ConnectionState.EXPIRED);
    await dedicated.server.start();
    await reconnected;
    await writeMany(writer, '/outage', 50);
    await Promise.all(['a', 'b'].map((name) => writer.create(`/outage-children/${name}`)));

    await node.until(await serverState(writer, '/outage'), 'the final value');
    await children.until((names) => names.join() === 'a,b', 'both children');
    expect(zk.session.id).not.toBe(session);
    expect(isStrictlyIncreasing(versionsOf(node))).toBe(true);
    await settled();
    expect(zk.pendingWatchCount).toBe(2);
    node.unsubscribe();
    children.unsubscribe();
  });

  it('converges on every path when writes land while the watching session is expired and replaced', async () => {
    const [zk, writer] = await Promise.all([open(4_000), open(20_000)]);
    await Promise.all(['/busy', '/vanishing'].map((path) => writer.create(path, 'start')));
    const busy = new Recorder(watchNode(zk, '/busy'));
    const vanishing = new Recorder(watchNode(zk, '/vanishing'));
    const appearing = new Recorder(watchNode(zk, '/appearing'));
    await Promise.all([
      busy.until((node) => node !== undefined, '/busy'),
      vanishing.until((node) => node !== undefined, '/vanishing'),
      appearing.until((node) => node === undefined, 'no /appearing yet'),
    ]);
    const session = zk.session.id;
    const reconnected = nextState(zk, ConnectionState.CONNECTED);

    let writing = true;
    const background = (async () => {
      while (writing) await writeMany(writer, '/busy', 25);
    })();
    try {
      await expireSession(zk);
      // The watching connection is between sessions now: these changes reach no watch.
      await writer.delete('/vanishing');
      await writer.create('/appearing', 'hello');
      await reconnected;
      await writeMany(writer, '/busy', 50);
    } finally {
      writing = false;
      await background;
    }

    await busy.until(await serverState(writer, '/busy'), 'the final /busy');
    await vanishing.until((node) => node === undefined, 'the deletion of /vanishing');
    await appearing.until((node) => node?.data.toString() === 'hello', 'the new /appearing');
    expect(zk.session.id).not.toBe(session);
    expect(isStrictlyIncreasing(versionsOf(busy))).toBe(true);
    await settled();
    expect(zk.pendingWatchCount).toBe(3);
    expect(watchRegistryStats(zk)).toMatchObject({
      activeLoops: 3,
      subscribers: 3,
      armedWatches: 3,
    });
    for (const recorder of [busy, vanishing, appearing]) recorder.unsubscribe();
  });

  it('TreeCache re-reads everything after session expiry and converges to the exact server state', async () => {
    const [zk, writer] = await Promise.all([open(4_000), open(20_000)]);
    const paths = Array.from({ length: 60 }, (_, i) => `/fleet/r${i % 6}/n${i}`);
    await Promise.all(paths.map((path) => writer.create(path, 'v0', { createParents: true })));
    const cache = new TreeCache(zk, '/fleet');
    const replay = new EventReplay();
    cache.events$.subscribe((event) => replay.apply(event));
    await cache.start();
    expect(cache.current().size).toBe(1 + 6 + 60);
    const reconnected = nextState(zk, ConnectionState.CONNECTED);

    await expireSession(zk);
    await Promise.all([
      ...paths.slice(0, 20).map((path) => writer.set(path, 'v1')),
      ...paths.slice(20, 30).map((path) => writer.delete(path)),
      writer.delete('/fleet/r5', { recursive: true }),
      writer.create('/fleet/r9/new', 'fresh', { createParents: true }),
    ]);
    await reconnected;
    await writer.set('/fleet/r0/n0', 'v2');

    const expected = await readTree(writer, '/fleet');
    await convergence(cache, expected);
    expect(replay.problems).toEqual([]);
    expect(sortedEntries(viewOf(replay.view))).toEqual(sortedEntries(viewOf(cache.current())));
    // One-shot watches are armed again by reads that may still be in flight once the view has
    // converged: the count is awaited (it must reach exactly this, and stay there).
    const watches = zk.capabilities.persistentWatches ? 1 : 2 * expected.size;
    await until(() => zk.pendingWatchCount === watches, {
      message: () => `watches: ${zk.pendingWatchCount}, expected ${watches}`,
      timeoutMs: 10_000,
    });
    await settled();
    expect(zk.pendingWatchCount).toBe(watches);
    await cache.close();
  });
});
