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

    // The `cons` four-letter word lists each server's client connections by session id.
    const served = await Promise.all(
      cluster.nodes.map(async (node) =>
        (await fourLetterWord('127.0.0.1', node.port, 'cons')).includes(`sid=0x${sessionId}`),
      ),
    );
    expect(served.filter(Boolean)).toHaveLength(1);
    const victim = cluster.nodes[served.indexOf(true)];

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
});
