import { describe, expect, it } from '@jest/globals';
import {
  CreateMode,
  InvalidOptionsError,
  nodeName,
  NodeExistsError,
  NodeSnapshot,
  PersistentEphemeralNode,
  watchChildren,
  watchNode,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { silentLogger, useTestConnections } from '../../support/connect.js';
import { Recorder } from '../../support/watch-helpers.js';

// `connections.zk` observes; each node lives in a session of its own.
const connections = useTestConnections('persistent-node');

/** A snapshot of the node owned by `sessionId` (a re-created node, once it is there). */
const ownedBy = (sessionId: string) => (node: NodeSnapshot | undefined) =>
  node?.stat.ephemeralOwner === sessionId;

/** The first recorded snapshot matching `matches`, which is a node. */
async function present(
  seen: Recorder<NodeSnapshot | undefined>,
  matches: (node: NodeSnapshot | undefined) => boolean,
  what: string,
): Promise<NodeSnapshot> {
  const snapshot = await seen.until(matches, what);
  if (!snapshot) throw new Error(`${what}: matched an absent node`);
  return snapshot;
}

describe('PersistentEphemeralNode', () => {
  it('is created on start with its data, takes updates, and is deleted on close', async () => {
    const { zk } = connections;
    const session = await connections.open();
    const node = new PersistentEphemeralNode(session, '/nodes/plain', 'v1', {
      logger: silentLogger,
    });
    expect(node.path).toBeUndefined();

    expect(await node.start()).toBe('/nodes/plain');
    expect(node.path).toBe('/nodes/plain');
    const created = await zk.get('/nodes/plain');
    expect(created.data.toString()).toBe('v1');
    expect(created.stat.ephemeralOwner).toBe(session.session.id);
    expect(created.stat.version).toBe(0);
    await expect(node.start()).rejects.toBeInstanceOf(InvalidOptionsError);

    await node.update('v2');
    await node.update(Buffer.from('v3'));
    const updated = await zk.get('/nodes/plain');
    expect(updated.data.toString()).toBe('v3');
    expect(node.data.toString()).toBe('v3');
    // Two updates, two writes, the same node.
    expect(updated.stat.version).toBe(2);
    expect(updated.stat.czxid).toBe(created.stat.czxid);

    await node.close();
    expect(node.path).toBeUndefined();
    expect(await zk.exists('/nodes/plain')).toBeUndefined();
    expect(await zk.getChildren('/nodes')).toEqual([]);
    await node.close(); // idempotent
    await expect(node.update('v4')).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(await zk.exists('/nodes/plain')).toBeUndefined();
  });

  it('after its session expires, is created again in the new session with its latest data', async () => {
    const { zk } = connections;
    const session = await connections.open();
    const node = new PersistentEphemeralNode(session, '/nodes/expiring', 'first', {
      logger: silentLogger,
    });
    await node.start();
    await node.update('latest');
    const oldSession = session.session.id;
    const old = await zk.exists('/nodes/expiring');
    const seen = new Recorder(watchNode(zk, '/nodes/expiring'));
    await seen.until(ownedBy(oldSession), 'the node of the first session');

    await expireSession(session);
    const recreated = await present(
      seen,
      (snapshot) => snapshot !== undefined && snapshot.stat.ephemeralOwner !== oldSession,
      'the node of the new session',
    );
    expect(recreated.stat.ephemeralOwner).toBe(session.session.id);
    expect(session.session.id).not.toBe(oldSession);
    // Created anew (not written after): with the latest data, at version 0.
    expect(recreated.data.toString()).toBe('latest');
    expect(recreated.stat.version).toBe(0);
    expect(recreated.stat.czxid).toBeGreaterThan(old!.czxid);
    expect(node.path).toBe('/nodes/expiring');
    expect(await zk.getChildren('/nodes')).toEqual(['expiring']);
    // One re-creation: the watcher saw the old node, then the new one, and no other.
    const nodesSeen = seen.values.filter((snapshot) => snapshot !== undefined);
    expect([...new Set(nodesSeen.map((snapshot) => snapshot.stat.czxid))]).toEqual([
      old!.czxid,
      recreated.stat.czxid,
    ]);
    seen.unsubscribe();

    await node.close();
    expect(await zk.exists('/nodes/expiring')).toBeUndefined();
  });

  it('a node deleted by another client is created again, every time, with its latest data', async () => {
    const { zk } = connections;
    const session = await connections.open();
    const node = new PersistentEphemeralNode(session, '/nodes/deleted', 'kept', {
      logger: silentLogger,
    });
    await node.start();
    const seen = new Recorder(watchNode(zk, '/nodes/deleted'));
    let current = await present(seen, ownedBy(session.session.id), 'the node');
    const creations = [current.stat.czxid];

    for (let round = 1; round <= 3; round++) {
      await node.update(`kept-${round}`);
      await zk.delete('/nodes/deleted');
      const previous = current.stat.czxid;
      current = await present(
        seen,
        (snapshot) => snapshot !== undefined && snapshot.stat.czxid !== previous,
        `re-creation #${round}`,
      );
      creations.push(current.stat.czxid);
      expect(current.data.toString()).toBe(`kept-${round}`);
      expect(current.stat.ephemeralOwner).toBe(session.session.id);
      expect(current.stat.version).toBe(0);
    }
    // 1 creation and 3 re-creations, each a new node, one at a time.
    expect(new Set(creations).size).toBe(4);
    expect(await zk.getChildren('/nodes')).toEqual(['deleted']);
    seen.unsubscribe();

    await node.close();
    expect(await zk.exists('/nodes/deleted')).toBeUndefined();
  });

  it('a sequential node gets a new protected name when re-created, and path follows it', async () => {
    const { zk } = connections;
    const session = await connections.open();
    const node = new PersistentEphemeralNode(session, '/nodes/seq/member-', 'm', {
      sequential: true,
      logger: silentLogger,
    });
    const first = await node.start();
    expect(nodeName(first)).toMatch(/^_c_[0-9a-f-]{36}-member-\d{10}$/);
    expect(await zk.getChildren('/nodes/seq')).toEqual([nodeName(first)]);

    const line = new Recorder(watchChildren(zk, '/nodes/seq'));
    await line.until((names) => names.length === 1, 'the first node');
    await zk.delete(first);
    const names = await line.until(
      (current) => current.length === 1 && current[0] !== nodeName(first),
      'the node under a new name',
    );
    line.unsubscribe();
    expect(names).toHaveLength(1);
    expect(names[0]).not.toBe(nodeName(first));
    expect(node.path).toBe(`/nodes/seq/${names[0]}`);
    expect((await zk.get(node.path!)).data.toString()).toBe('m');

    await node.close();
    expect(await zk.getChildren('/nodes/seq')).toEqual([]);
  });

  it('start fails with NodeExistsError on a path held by another session, unless replaceExisting', async () => {
    const { zk } = connections;
    const [holder, starter] = await Promise.all([connections.open(), connections.open()]);
    await holder.create('/nodes/taken', 'holder', {
      mode: CreateMode.EPHEMERAL,
      createParents: true,
    });

    const refused = new PersistentEphemeralNode(starter, '/nodes/taken', 'starter', {
      logger: silentLogger,
    });
    await expect(refused.start()).rejects.toBeInstanceOf(NodeExistsError);
    expect((await zk.exists('/nodes/taken'))!.ephemeralOwner).toBe(holder.session.id);
    await refused.close();
    expect((await zk.get('/nodes/taken')).data.toString()).toBe('holder');

    const replacing = new PersistentEphemeralNode(starter, '/nodes/taken', 'starter', {
      replaceExisting: true,
      logger: silentLogger,
    });
    await replacing.start();
    const taken = await zk.get('/nodes/taken');
    expect(taken.data.toString()).toBe('starter');
    expect(taken.stat.ephemeralOwner).toBe(starter.session.id);
    await replacing.close();
    expect(await zk.exists('/nodes/taken')).toBeUndefined();
  });

  it('refuses data that is neither a Buffer nor a string when given, not at the first create', async () => {
    const session = await connections.open();
    expect(() => new PersistentEphemeralNode(session, '/nodes/bad-data', 42 as never)).toThrow(
      InvalidOptionsError,
    );
    const node = new PersistentEphemeralNode(session, '/nodes/bad-data', 'ok', {
      logger: silentLogger,
    });
    await expect(node.update({ not: 'bytes' } as never)).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
    expect(node.data.toString()).toBe('ok');
    await node.close();
  });
});
