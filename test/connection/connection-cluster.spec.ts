import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectionState, CreateMode, ZookeeperConnection } from 'nestjs-zookeeper';
import { fourLetterWord, ZookeeperTestingCluster } from 'nestjs-zookeeper/testing';
import { silentLogger, statesUntil } from '../support/connect.js';

let cluster: ZookeeperTestingCluster;
let zk: ZookeeperConnection | undefined;

beforeAll(async () => {
  cluster = await ZookeeperTestingCluster.start({ size: 3 });
}, 120_000);
afterAll(async () => {
  await zk?.close();
  await cluster?.close();
});

/** The node whose client connections include this session (the `cons` four-letter word). */
async function servingNode(sessionId: string) {
  const served = await Promise.all(
    cluster.nodes.map(async (node) =>
      node.running && !node.paused
        ? (await fourLetterWord('127.0.0.1', node.port, 'cons')).includes(`sid=0x${sessionId}`)
        : false,
    ),
  );
  expect(served.filter(Boolean)).toHaveLength(1);
  return cluster.nodes[served.indexOf(true)];
}

describe('connection to a 3-node ensemble', () => {
  it('keeps its session and keeps serving when the node it is connected to is killed', async () => {
    zk = await ZookeeperConnection.connect({
      connectString: cluster.connectString,
      sessionTimeoutMs: 10_000,
      logger: silentLogger,
    });
    await zk.create('/ensemble', 'v0');
    await zk.create('/ensemble/eph', '', { mode: CreateMode.EPHEMERAL });
    const sessionId = zk.session.id;

    const victim = await servingNode(sessionId);

    const states = statesUntil(zk, ConnectionState.RECONNECTED);
    await victim.kill();
    const written: number[] = [];
    for (let i = 1; i <= 20; i++) written.push((await zk.set('/ensemble', `v${i}`)).version);

    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
    expect(written).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(zk.session.id).toBe(sessionId);
    expect((await zk.get('/ensemble')).data.toString()).toBe('v20');
    expect((await zk.exists('/ensemble/eph'))!.ephemeralOwner).toBe(sessionId);
  }, 120_000);

  it('keeps its session when the node it is connected to is paused (a long GC pause)', async () => {
    // All three up again (the test above killed one), so one paused node leaves a quorum.
    for (const node of cluster.nodes) if (!node.running) await node.start();
    await cluster.waitForQuorum();
    const paused = await ZookeeperConnection.connect({
      connectString: cluster.connectString,
      sessionTimeoutMs: 6_000,
      logger: silentLogger,
    });
    try {
      const sessionId = paused.session.id;
      await paused.create('/paused-eph', '', { mode: CreateMode.EPHEMERAL });
      const victim = await servingNode(sessionId);
      const states = statesUntil(paused, ConnectionState.RECONNECTED);
      victim.pause();
      try {
        // Nothing comes back from a paused server: the client notices within its read timeout
        // and moves to another node before the session times out.
        expect((await paused.set('/paused-eph', 'after')).version).toBe(1);
        expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
        expect(paused.session.id).toBe(sessionId);
        expect((await paused.exists('/paused-eph'))!.ephemeralOwner).toBe(sessionId);
      } finally {
        victim.resume();
      }
    } finally {
      await paused.close();
    }
  }, 120_000);
});
