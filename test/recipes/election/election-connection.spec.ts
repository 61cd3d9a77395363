import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectionState, LeaderElection, ZookeeperConnection } from 'nestjs-zookeeper';
import { expireSession, ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { nextState, silentLogger } from '../../support/connect.js';

// These tests stop and restart their own server, so they never disturb other test files.
let server: ZookeeperTestingServer;
const opened: ZookeeperConnection[] = [];
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

async function candidate(participantId: string, sessionTimeoutMs: number) {
  const zk = await ZookeeperConnection.connect({
    connectString: server.connectString,
    sessionTimeoutMs,
    logger: silentLogger,
    retry: { deadlineMs: 20_000 },
  });
  opened.push(zk);
  const election = new LeaderElection(zk, '/election', { participantId, logger: quiet });
  const changes: Array<{ leads: boolean; state: ConnectionState }> = [];
  election.isLeader$.subscribe((leads) => changes.push({ leads, state: zk.state }));
  await election.start();
  return { zk, election, changes };
}

async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let polls = 0; !condition(); polls++) {
    if (polls > 400) throw new Error(`never true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  server = await ZookeeperTestingServer.start();
});
afterAll(async () => {
  await Promise.all(opened.map((connection) => connection.close()));
  await server.close();
});

describe('LeaderElection under connection faults (own server)', () => {
  it('SUSPENDED: the leader emits false at once; RECONNECTED with its node intact: it leads again with the same node', async () => {
    const leader = await candidate('leader', 8000);
    const follower = await candidate('follower', 8000);
    expect(leader.election.isLeader).toBe(true);
    const node = leader.election.nodePath;
    const sessionId = leader.zk.session.id;

    await server.stop();
    await nextState(leader.zk, ConnectionState.SUSPENDED);
    // Emitted synchronously with the SUSPENDED state, long before the session could expire.
    expect(leader.changes.at(-1)).toEqual({ leads: false, state: ConnectionState.SUSPENDED });
    expect(leader.election.isLeader).toBe(false);
    expect(follower.election.isLeader).toBe(false);

    await server.restart();
    await nextState(leader.zk, ConnectionState.RECONNECTED);
    await eventually(() => leader.election.isLeader, 'the leader leads again');
    expect(leader.zk.session.id).toBe(sessionId);
    expect(leader.election.nodePath).toBe(node);
    expect(follower.election.isLeader).toBe(false);
    expect(leader.changes.map((change) => change.leads)).toEqual([false, true, false, true]);
    await Promise.all([leader.election.close(), follower.election.close()]);
  });

  it('EXPIRED: the leader steps down, the next candidate takes over, and it re-enters with a new node', async () => {
    const leader = await candidate('expiring', 4000);
    const next = await candidate('next', 4000);
    expect(leader.election.isLeader).toBe(true);
    const oldNode = leader.election.nodePath!;

    await expireSession(leader.zk);
    expect(leader.election.isLeader).toBe(false);
    await eventually(() => next.election.isLeader, 'the next candidate leads');
    await eventually(
      () => leader.election.nodePath !== undefined && leader.election.nodePath !== oldNode,
      'the expired candidate re-entered',
    );
    const participants = await next.election.participants();
    expect(participants.map((p) => [p.id, p.isLeader])).toEqual([
      ['next', true],
      ['expiring', false],
    ]);
    expect((await next.zk.exists(oldNode)) ?? 'gone').toBe('gone');
    expect((await leader.zk.exists(leader.election.nodePath!))!.ephemeralOwner).toBe(
      leader.zk.session.id,
    );

    await next.election.close();
    await eventually(() => leader.election.isLeader, 'the re-entered candidate leads');
    await leader.election.close();
  });

  it('a leader cut off for longer than its session timeout stays down until its new node leads', async () => {
    const leader = await candidate('partitioned', 1000);
    expect(leader.election.isLeader).toBe(true);
    const oldNode = leader.election.nodePath;

    await server.stop();
    await nextState(leader.zk, ConnectionState.EXPIRED);
    expect(leader.changes.map((change) => [change.leads, change.state])).toEqual([
      [false, ConnectionState.CONNECTED],
      [true, ConnectionState.CONNECTED],
      [false, ConnectionState.SUSPENDED],
    ]);
    await server.restart();
    await eventually(() => leader.election.isLeader, 'leads again after the restart');
    expect(leader.election.nodePath).not.toBe(oldNode);
    await leader.election.close();
  });
});
