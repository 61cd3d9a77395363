import { describe, expect, it } from '@jest/globals';
import {
  ConnectionState,
  NodeExistsError,
  NoNodeError,
  TreeCache,
  watchRegistryStats,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession, fourLetterWord } from 'nestjs-zookeeper/testing';
import { nextState, statesUntil } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import {
  convergence,
  EventReplay,
  NodeView,
  settled,
  sortedEntries,
  viewOf,
} from '../support/watch-helpers.js';
import { until } from '../support/until.js';

// Restarts and session expiry: a server of this file's own.
const dedicated = new DedicatedServer();

/** Runs `task` for every item with at most `inFlight` at a time (a session pipelines them). */
async function pipelined<T>(
  items: readonly T[],
  inFlight: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

/** The server's subtree at `root`, read level by level with pipelined reads. */
async function readTree(
  connection: ZookeeperConnection,
  root: string,
): Promise<Map<string, NodeView>> {
  const tree = new Map<string, NodeView>();
  let level = [root];
  while (level.length > 0) {
    const below: string[] = [];
    await pipelined(level, 200, async (path) => {
      try {
        const [{ data, stat }, children] = await Promise.all([
          connection.get(path),
          connection.getChildren(path),
        ]);
        tree.set(path, { data: data.toString(), version: stat.version, mzxid: stat.mzxid });
        below.push(...children.map((name) => `${path}/${name}`));
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    });
    level = below;
  }
  return tree;
}

/** Watches the server holds, all sessions together (`wchs`). */
async function serverWatchCount(): Promise<number> {
  const reply = await fourLetterWord('127.0.0.1', dedicated.server.port, 'wchs');
  const match = /Total watches:\s*(\d+)/.exec(reply);
  if (!match) throw new Error(`unexpected wchs reply: ${reply}`);
  return Number(match[1]);
}

/** `count` changes spread over the leaves: sets, deletes, and creates of new leaves. */
async function change(writer: ZookeeperConnection, count: number, tag: string): Promise<void> {
  const indexes = Array.from({ length: count }, (_, i) => (i * 7919 + tag.length * 31) % leaves);
  await pipelined(indexes, 50, async (index) => {
    const path = leaf(index);
    const roll = index % 5;
    try {
      if (roll < 3) await writer.set(path, `${tag}:${index}`);
      else if (roll === 3) await writer.delete(path);
      else await writer.create(`${path}-${tag}`, tag);
    } catch (error) {
      // A leaf picked twice may be gone already; a new leaf may exist from an earlier round.
      if (!(error instanceof NoNodeError || error instanceof NodeExistsError)) throw error;
    }
  });
}

let leaves = 0;
const leaf = (i: number) => `/big/n${i}`;

async function converged(cache: TreeCache, writer: ZookeeperConnection): Promise<void> {
  const expected = await readTree(writer, '/big');
  await convergence(cache, expected);
  expect(sortedEntries(viewOf(cache.current()))).toEqual(sortedEntries(expected));
}

describe('TreeCache on a persistent recursive watch (own server)', () => {
  it('holds a large tree with one watch, and converges after changes, a restart and an expiry', async () => {
    const zk = await dedicated.connect({ sessionTimeoutMs: 20_000 });
    const writer = await dedicated.connect({ sessionTimeoutMs: 30_000 });
    const persistent = zk.capabilities.persistentWatches;
    // One-shot mode sets two watches per node: a small tree there.
    leaves = persistent ? 20_000 : 300;
    await writer.create('/big', 'root');
    const indexes = Array.from({ length: leaves }, (_, i) => i);
    await pipelined(indexes, 200, (i) => writer.create(leaf(i), `v${i}`));

    const cache = new TreeCache(zk, '/big');
    const replay = new EventReplay();
    cache.events$.subscribe((event) => replay.apply(event));
    const began = performance.now();
    await cache.start();
    const tookMs = Math.round(performance.now() - began);
    console.log(
      `TreeCache (${persistent ? 'persistent' : 'one-shot'}) initialized ${leaves} nodes in ${tookMs} ms`,
    );
    expect(cache.current().size).toBe(leaves + 1);
    await settled();
    if (persistent) {
      expect(zk.pendingWatchCount).toBe(1);
      expect(watchRegistryStats(zk).activeLoops).toBe(0);
      expect(await serverWatchCount()).toBe(1);
    }

    // 100 changes by another connection.
    await change(writer, 100, 'a');
    await converged(cache, writer);

    // A restart within the session timeout: changes made as soon as the server is back.
    const states = statesUntil(zk, ConnectionState.RECONNECTED);
    await dedicated.server.restart();
    const late = await dedicated.connect({ sessionTimeoutMs: 30_000 });
    await change(late, 100, 'restart');
    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
    await change(late, 20, 'after');
    await converged(cache, writer);
    if (persistent) expect(zk.pendingWatchCount).toBe(1);

    // Session expiry: changes while no session watches, then a new session.
    const reconnected = nextState(zk, ConnectionState.CONNECTED);
    // Generous: when the owner wins the race back to its session, a retry waits a session timeout.
    await expireSession(zk, { timeoutMs: 120_000 });
    await change(writer, 100, 'expired');
    await reconnected;
    await change(writer, 20, 'new-session');
    await converged(cache, writer);
    expect(replay.problems).toEqual([]);
    expect(sortedEntries(viewOf(replay.view))).toEqual(sortedEntries(viewOf(cache.current())));
    if (persistent) {
      await settled();
      expect(zk.pendingWatchCount).toBe(1);
      expect(await serverWatchCount()).toBe(1);
    }

    await cache.close();
    expect(cache.current().size).toBe(0);
    if (persistent) {
      expect(zk.pendingWatchCount).toBe(0);
      expect(await serverWatchCount()).toBe(0);
    }
  }, 300_000);

  it('converges when changes race the initial load, and ignores the children it is told to', async () => {
    const [zk, writer] = await Promise.all([dedicated.connect(), dedicated.connect()]);
    const paths = Array.from({ length: 400 }, (_, i) => `/race/g${i % 8}/n${i}`);
    await pipelined(paths, 100, (path) => writer.create(path, 'v0', { createParents: true }));
    await writer.create('/race/g0/_hidden/x', 'h', { createParents: true });
    const cache = new TreeCache(zk, '/race', { ignoreChild: (name) => name.startsWith('_') });
    const replay = new EventReplay();
    cache.events$.subscribe((event) => replay.apply(event));

    let writing = true;
    const churn = (async () => {
      for (let round = 0; writing || round < 3; round++) {
        await pipelined(paths.slice(round % 4, 100 + (round % 4) * 50), 25, async (path) => {
          try {
            if (round % 3 === 2) await writer.delete(path);
            else if (round % 3 === 1) await writer.create(path, `r${round}`);
            else await writer.set(path, `r${round}`);
          } catch (error) {
            if (!(error instanceof NoNodeError || error instanceof NodeExistsError)) throw error;
          }
        });
        await writer.set('/race/g0/_hidden/x', `h${round}`);
        await writer.create(`/race/g1/_hidden${round}`, 'h').catch(() => undefined);
      }
    })();
    await cache.start();
    writing = false;
    await churn;

    const expected = await readTree(writer, '/race');
    for (const path of expected.keys()) if (path.includes('/_')) expected.delete(path);
    await convergence(cache, expected);
    expect(replay.problems).toEqual([]);
    expect([...cache.current().keys()].some((path) => path.includes('/_'))).toBe(false);
    await cache.close();
    if (zk.capabilities.persistentWatches) {
      await until(() => zk.pendingWatchCount === 0, { message: 'no watch left' });
    }
  }, 120_000);
});
