import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ZooKeeper from 'zookeeper';
import {
  fourLetterWord,
  parseMntr,
  ZookeeperTestingCluster,
  type ZookeeperServerMode,
  type ZookeeperTestingClusterNode,
} from 'nestjs-zookeeper/testing';
import { until } from '../support/until.js';

const { ZOO_PERSISTENT } = ZooKeeper.constants;

async function withClient<T>(
  connectString: string,
  use: (client: ZooKeeper) => Promise<T>,
): Promise<T> {
  const client = new ZooKeeper({ connect: connectString, timeout: 5_000, debug_level: 1 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no connection to ${connectString}`)),
        15_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.init({});
    });
    return await use(client);
  } finally {
    client.close();
  }
}

/** Polls the leader's `mntr` until it counts `expected` synced followers. */
async function waitForSyncedFollowers(
  leader: ZookeeperTestingClusterNode,
  expected: number,
  timeoutMs: number,
): Promise<void> {
  let last: string | undefined;
  await until(
    async () => {
      const mntr = parseMntr(await fourLetterWord('127.0.0.1', leader.port, 'mntr'));
      last = mntr.zk_synced_followers;
      return last === String(expected);
    },
    {
      message: () =>
        `leader ${leader.id} still reports ${last} synced followers, expected ${expected}`,
      timeoutMs,
      pollMs: 100,
    },
  );
}

function count(modes: Array<ZookeeperServerMode | undefined>, mode: ZookeeperServerMode): number {
  return modes.filter((candidate) => candidate === mode).length;
}

describe('ZookeeperTestingCluster', () => {
  let cluster: ZookeeperTestingCluster;
  let pids: number[] = [];

  beforeAll(async () => {
    cluster = await ZookeeperTestingCluster.start();
    pids = cluster.nodes.map((node) => node.pid!);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('starts three nodes that reach quorum with exactly one leader', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.connectString.split(',')).toEqual(
      cluster.nodes.map((node) => node.connectString),
    );
    expect(
      new Set(cluster.nodes.flatMap((node) => [node.port, node.peerPort, node.electionPort])).size,
    ).toBe(9);

    const modes = await Promise.all(cluster.nodes.map((node) => node.mode()));
    expect(count(modes, 'leader')).toBe(1);
    expect(count(modes, 'follower')).toBe(2);
    const leader = await cluster.leader();
    expect(leader?.id).toBe(cluster.nodes[modes.indexOf('leader')]!.id);
  });

  it('replicates a write made through one node to the others', async () => {
    const [writer, ...readers] = cluster.nodes;
    await withClient(writer!.connectString, (client) =>
      client.create('/replicated', 'value', ZOO_PERSISTENT),
    );
    expect(readers).toHaveLength(2);
    for (const node of readers) {
      const [, data] = await withClient(node.connectString, async (client) => {
        await client.sync('/replicated');
        return client.get('/replicated', false);
      });
      expect(String(data)).toBe('value');
    }
  });

  it('keeps serving while a follower is paused, and the follower rejoins after resume()', async () => {
    const leaderBefore = await cluster.leader();
    const [follower] = await cluster.followers();
    expect(follower).toBeDefined();

    follower!.pause();
    try {
      expect(follower!.paused).toBe(true);
      expect(await follower!.mode(500)).toBeUndefined();
      // The other two still form a majority with the same leader, and accept writes.
      const leader = await cluster.waitForQuorum(30_000);
      expect(leader.id).toBe(leaderBefore!.id);
      // syncLimit (3 s) later the leader gives up on the silent follower.
      await waitForSyncedFollowers(leader, 1, 20_000);
      await withClient(leader.connectString, (client) =>
        client.create('/while-paused', '', ZOO_PERSISTENT),
      );
    } finally {
      follower!.resume();
    }

    expect(follower!.paused).toBe(false);
    expect(await follower!.waitUntilServing(30_000)).toBe('follower');
    await waitForSyncedFollowers(await cluster.waitForQuorum(30_000), 2, 30_000);
  });

  it('elects a new leader among the other two when the leader is killed', async () => {
    const oldLeader = (await cluster.leader())!;
    const others = cluster.nodes.filter((node) => node !== oldLeader).map((node) => node.id);

    await oldLeader.kill();
    expect(oldLeader.running).toBe(false);

    const newLeader = await cluster.waitForQuorum(60_000);
    expect(others).toContain(newLeader.id);
    const modes = await Promise.all(cluster.nodes.map((node) => node.mode()));
    expect(count(modes, 'leader')).toBe(1);
    expect(count(modes, 'follower')).toBe(1);
    expect(modes[cluster.nodes.indexOf(oldLeader)]).toBeUndefined();

    // Back with the same port and data, it rejoins as a follower of the new leader.
    await oldLeader.restart();
    expect(await oldLeader.mode()).toBe('follower');
    expect((await cluster.waitForQuorum(30_000)).id).toBe(newLeader.id);
    pids = cluster.nodes.map((node) => node.pid!);
  });
});
