import { describe, expect, it } from '@jest/globals';
import { encodeMemberData, Member, Membership, SerializationError } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { testConnectString, useTestConnections } from '../../support/connect.js';
import { spawnFixture } from '../../support/line-process.js';
import { until } from '../../support/until.js';
import { Recorder } from '../../support/watch-helpers.js';

const connections = useTestConnections('membership');

const ids = (members: Member[]) => members.map((member) => member.id);

describe('Membership', () => {
  it('refuses member data without a JSON form with SerializationError, before anything is written', async () => {
    expect(() => encodeMemberData(10n)).toThrow(SerializationError);
    expect(() => encodeMemberData(() => 1)).toThrow(/a function has no JSON form/);
    const membership = new Membership(await connections.open());
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(membership.join('/refused', cyclic)).rejects.toBeInstanceOf(SerializationError);
    expect(await connections.zk.exists('/refused')).toBeUndefined();
    const handle = await membership.join('/refused', 'ok');
    expect(() => handle.update(undefined)).toThrow(/undefined has no JSON form/);
    await handle.leave();
  });

  it('3 sessions join: members$ converges to 3 members in join order with their data; updates and a leave show up', async () => {
    const sessions = await Promise.all([1, 2, 3].map(() => connections.open()));
    const handles = [];
    for (const [index, session] of sessions.entries())
      handles.push(await new Membership(session).join('/crew', { name: `m${index}` }));
    const watched = new Recorder(new Membership(connections.zk).members$('/crew'));

    const members = await watched.until((list) => list.length === 3, '3 members');
    expect(ids(members)).toEqual(handles.map((handle) => handle.id));
    expect(members.map((member) => member.data)).toEqual([
      { name: 'm0' },
      { name: 'm1' },
      { name: 'm2' },
    ]);
    expect(members[0].joinedOrder).toBeLessThan(members[1].joinedOrder);
    expect(members[1].joinedOrder).toBeLessThan(members[2].joinedOrder);
    expect(handles[0].id).toMatch(/^_c_[0-9a-f-]{36}-member-\d{10}$/);
    expect(handles[0].path).toBe(`/crew/${handles[0].id}`);
    expect((await connections.zk.exists(handles[1].path))!.ephemeralOwner).toBe(
      sessions[1].session.id,
    );

    await handles[1].update({ name: 'm1', status: 'busy' });
    await watched.until((list) => (list[1]?.data as any)?.status === 'busy', 'the updated data');

    await handles[0].leave();
    const after = await watched.until((list) => list.length === 2, '2 members after a leave');
    expect(ids(after)).toEqual([handles[1].id, handles[2].id]);
    expect(await connections.zk.getChildren('/crew')).toHaveLength(2);
    await handles[0].leave(); // idempotent
    watched.unsubscribe();
  });

  it('a member whose session expires disappears and joins again with a new node, its data and a later join order', async () => {
    const sessions = await Promise.all([1, 2, 3].map(() => connections.open()));
    const handles = [];
    for (const [index, session] of sessions.entries())
      handles.push(await new Membership(session).join('/shift', `worker-${index}`));
    const watched = new Recorder(new Membership(connections.zk).members$('/shift'));
    await watched.until((list) => list.length === 3, '3 members');
    const expiring = handles[0];
    const oldId = expiring.id;
    const oldPath = expiring.path;

    await expireSession(sessions[0]);

    const rejoined = await watched.until(
      (list) => list.length === 3 && !ids(list).includes(oldId),
      'the expired member back under a new node',
    );
    const newcomer = rejoined[2];
    expect(newcomer.data).toBe('worker-0');
    expect(newcomer.joinedOrder).toBeGreaterThan(rejoined[1].joinedOrder);
    expect(ids(rejoined).slice(0, 2)).toEqual([handles[1].id, handles[2].id]);
    await until(() => expiring.id === newcomer.id, {
      message: 'the handle to follow its new node',
      timeoutMs: 10_000,
    });
    expect(await connections.zk.exists(oldPath)).toBeUndefined();
    expect((await connections.zk.exists(expiring.path))!.ephemeralOwner).toBe(
      sessions[0].session.id,
    );
    // Never listed twice: the old node is gone before the new one appears.
    for (const list of watched.values) {
      expect(ids(list).filter((id) => id === oldId || id === newcomer.id).length).toBeLessThan(2);
    }
    expect(await connections.zk.getChildren('/shift')).toHaveLength(3);
    watched.unsubscribe();
  });

  it('a member process killed with SIGKILL disappears within its session timeout', async () => {
    const sessionTimeoutMs = 1000;
    const watched = new Recorder(new Membership(connections.zk).members$('/killed'));
    const child = spawnFixture('member', 'test/recipes/membership/fixtures/member.ts', [
      testConnectString(),
      connections.namespace,
      '/killed',
      String(sessionTimeoutMs),
    ]);
    try {
      const childId = (await child.waitForWord('member')).words[1];
      const joined = await watched.until((list) => ids(list).includes(childId), 'the child member');
      expect(joined).toHaveLength(1);
      expect(joined[0].data).toEqual({ role: 'child', pid: child.pid });

      const killedAt = Date.now();
      await child.stop('SIGKILL');
      await watched.until((list) => list.length === 0, 'the killed member to disappear');
      const elapsed = Date.now() - killedAt;
      // Session timeout plus the server's expiry tick and our watch round trip.
      expect(elapsed).toBeLessThan(sessionTimeoutMs + 1500);
    } finally {
      await child.stop();
      watched.unsubscribe();
    }
  }, 30_000);
});
