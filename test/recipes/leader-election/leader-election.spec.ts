import { describe, expect, it } from '@jest/globals';
import { filter, firstValueFrom } from 'rxjs';
import { LeaderElection, LeaderInfo, nodeName, ZookeeperConnection } from 'nestjs-zookeeper';
import { useTestConnections } from '../../support/connect.js';
import { firstMatch, until } from '../../support/until.js';

const connections = useTestConnections('election');

const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

async function candidates(path: string, ids: string[]) {
  const opened: Array<{ zk: ZookeeperConnection; election: LeaderElection }> = [];
  for (const participantId of ids) {
    const zk = await connections.open();
    const election = new LeaderElection(zk, path, { participantId, logger: quiet });
    await election.start();
    opened.push({ zk, election });
  }
  return opened;
}

const leaderIs = (election: LeaderElection, id: string | undefined) =>
  firstValueFrom(election.leader$.pipe(filter((leader) => leader?.id === id)));

/** Resolves when the election reports leadership (isLeader$ replays the current value). */
const leads = (election: LeaderElection, message: string) =>
  firstMatch(election.isLeader$, Boolean, { message, timeoutMs: 10_000 });

describe('LeaderElection', () => {
  it("uses LeaderLatch's layout: a protected _c_<uuid>-latch-<seq> node holding the participant id", async () => {
    const [{ zk, election }] = await candidates('/election/layout', ['alpha']);
    expect(election.isLeader).toBe(true);
    expect(nodeName(election.nodePath!)).toMatch(/^_c_[0-9a-f-]{36}-latch-\d{10}$/);
    const { data, stat } = await zk.get(election.nodePath!);
    expect(data.toString('utf8')).toBe('alpha');
    expect(stat.ephemeralOwner).toBe(zk.session.id);
    await election.close();
    expect(await zk.getChildren('/election/layout')).toEqual([]);
    expect(election.isLeader).toBe(false);
  });

  it('the lowest node leads, each other candidate watches only its predecessor, and leadership passes in order', async () => {
    const all = await candidates('/election/order', ['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(all.map(({ election }) => election.isLeader)).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    // Every candidate watches its own node; the others one node more: the one before theirs.
    expect(all.map(({ zk }) => zk.pendingWatchCount)).toEqual([1, 2, 2, 2, 2]);
    const participants = await all[3].election.participants();
    expect(participants.map((p) => [p.id, p.isLeader])).toEqual([
      ['c0', true],
      ['c1', false],
      ['c2', false],
      ['c3', false],
      ['c4', false],
    ]);

    await all[0].election.close();
    await leads(all[1].election, 'c1 leads');
    // No herd: the watches of c2..c4 did not fire.
    expect(all.slice(2).map(({ zk }) => zk.pendingWatchCount)).toEqual([2, 2, 2]);

    // A candidate in the middle leaving makes its successor watch the node before it.
    await all[2].election.close();
    await until(() => all[3].zk.pendingWatchCount === 2, { message: 'c3 re-armed' });
    expect(all[3].election.isLeader).toBe(false);
    await all[1].zk.close();
    await leads(all[3].election, 'c3 leads after c1 left');
    expect(all[4].election.isLeader).toBe(false);
    await Promise.all(all.map(({ election }) => election.close()));
  });

  it('leader$ reports the leader to candidates and plain observers, and follows changes', async () => {
    const observerZk = await connections.open();
    const observer = new LeaderElection(observerZk, '/election/observed', {
      participantId: 'watcher',
      logger: quiet,
    });
    const seen: Array<LeaderInfo | undefined> = [];
    const subscription = observer.leader$.subscribe((leader) => seen.push(leader));
    await until(() => seen.length === 1, { message: 'first leader$ value' });
    expect(seen).toEqual([undefined]);

    const [first, second] = await candidates('/election/observed', ['one', 'two']);
    await leaderIs(observer, 'one');
    expect(await firstValueFrom(second.election.leader$)).toEqual({
      id: 'one',
      nodeName: nodeName(first.election.nodePath!),
    });
    await first.election.close();
    await leaderIs(observer, 'two');
    await second.election.close();
    await leaderIs(observer, undefined);
    expect(seen.map((leader) => leader?.id)).toEqual([undefined, 'one', 'two', undefined]);
    subscription.unsubscribe();
    await observer.close();
  });

  it('resign() hands leadership to the next candidate and queues again at the back', async () => {
    const [a, b] = await candidates('/election/resign', ['a', 'b']);
    const states: boolean[] = [];
    a.election.isLeader$.subscribe((leads) => states.push(leads));
    const oldNode = a.election.nodePath;

    await a.election.resign();
    await leads(b.election, 'b leads');
    expect(a.election.isLeader).toBe(false);
    expect(a.election.nodePath).toBeDefined();
    expect(a.election.nodePath).not.toBe(oldNode);

    await b.election.resign();
    await leads(a.election, 'a leads again');
    expect(states).toEqual([true, false, true]);
    await Promise.all([a.election.close(), b.election.close()]);
  });
});
