import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FrameTooLargeError, WatchEventType } from 'nestjs-zookeeper';
import { DriverFailure } from '../../../libs/zookeeper/src/driver/driver-failure.js';
import {
  DriverSession,
  PersistentWatchMode,
} from '../../../libs/zookeeper/src/driver/driver-session.interface.js';
import { MultiFailure } from '../../../libs/zookeeper/src/driver/multi.js';
import { wireDriver } from '../../../libs/zookeeper/src/driver/wire/index.js';
import { testConnectString } from '../../support/connect.js';
import { digestAcl, failureCode, mkdirs, rejection, sleep, WireSessions } from './wire-helpers.js';

const root = `/tests/wire-session-${randomUUID().slice(0, 8)}`;
const sessions = new WireSessions();
let zk: DriverSession;
const bytes = (text: string) => Buffer.from(text);
const EMPTY = Buffer.alloc(0);

beforeAll(async () => {
  zk = (await sessions.open({ connectString: testConnectString() })).session;
  await mkdirs(zk, root);
});
afterAll(() => sessions.closeAll());

describe('wire driver against a real server', () => {
  it('declares its name and capabilities', () => {
    expect(wireDriver.name).toBe('wire');
    expect(wireDriver.capabilities).toEqual({
      multi: true,
      createWithAcl: true,
      persistentWatches: true,
      tls: true,
    });
  });

  it('creates, reads, lists, updates, syncs and deletes nodes', async () => {
    const path = `${root}/crud`;
    expect(await zk.create(path, bytes('v0'), 0)).toBe(path);
    const seq = await zk.create(`${path}/s-`, EMPTY, 2);
    expect(seq).toMatch(new RegExp(`^${path}/s-\\d{10}$`));
    const { data, stat } = await zk.get(path, false);
    expect(data.toString()).toBe('v0');
    expect(stat).toMatchObject({ version: 0, dataLength: 2, numChildren: 1, ephemeralOwner: '0' });
    expect(stat.ctime).toBeInstanceOf(Date);
    expect(Math.abs(stat.ctime.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await zk.set(path, bytes('v1'), 0)).version).toBe(1);
    expect(await failureCode(zk.set(path, bytes('v2'), 0))).toBe(-103);
    expect((await zk.getChildren(path, false)).children).toEqual([seq.slice(path.length + 1)]);
    expect((await zk.exists(path, false)).version).toBe(1);
    await zk.sync(path);
    expect(await failureCode(zk.delete(path, -1))).toBe(-111);
    await zk.delete(seq, 0);
    await zk.delete(path, 1);
    expect(await failureCode(zk.exists(path, false))).toBe(-101);
    expect(await failureCode(zk.get(path, false))).toBe(-101);
    expect(await failureCode(zk.create(`${root}/no/parent`, EMPTY, 0))).toBe(-101);
    // An empty value reads back as an empty buffer.
    await zk.create(`${root}/empty`, EMPTY, 0);
    expect((await zk.get(`${root}/empty`, false)).data).toEqual(EMPTY);
  });

  it('an ephemeral node is owned by the session id, formatted the same way', async () => {
    const { session } = await sessions.open({ connectString: testConnectString() });
    const path = await session.create(`${root}/eph`, EMPTY, 1);
    const stat = await zk.exists(path, false);
    expect(stat.ephemeralOwner).toBe(session.credentials.id);
    expect(session.credentials.id).toMatch(/^[1-9a-f][0-9a-f]*$/);
    expect(session.credentials.password).toMatch(/^[0-9A-F]{32}$/);
    expect(session.negotiatedTimeoutMs).toBe(4000);
    session.close();
    // close() ends the session on the server: its ephemeral node goes at once.
    await sleep(300);
    expect(await failureCode(zk.exists(path, false))).toBe(-101);
  });

  it('creates with the given ACL in the request itself, and world:anyone for an empty list', async () => {
    const acl = [digestAcl('owner', 'pw'), { perms: 1, scheme: 'world', id: 'anyone' }];
    const path = await zk.create(`${root}/acl`, bytes('x'), 0, undefined, acl);
    // The server shows digest hashes only to a session with ADMIN permission on the node.
    expect((await zk.getAcl(path)).acl[0].id).toBe('owner:x');
    const { session: owner } = await sessions.open({ connectString: testConnectString() });
    await owner.addAuth('digest', 'owner:pw');
    expect((await owner.getAcl(path)).acl).toEqual(acl);
    const open = await zk.create(`${root}/acl-open`, EMPTY, 0, undefined, []);
    expect((await zk.getAcl(open)).acl).toEqual([{ perms: 31, scheme: 'world', id: 'anyone' }]);
    await zk.setAcl(open, [{ perms: 1, scheme: 'world', id: 'anyone' }], 0);
    const after = await zk.getAcl(open);
    expect(after.acl).toEqual([{ perms: 1, scheme: 'world', id: 'anyone' }]);
    expect(after.stat.aversion).toBe(1);
    expect(await failureCode(zk.setAcl(open, [], -1))).toBe(-114);
  });

  it('creates TTL (plain and sequential) and container nodes', async () => {
    const ttl = await zk.create(`${root}/ttl`, EMPTY, 5, 60_000);
    expect(ttl).toBe(`${root}/ttl`);
    const seqTtl = await zk.create(`${root}/ttl-`, EMPTY, 6, 60_000);
    expect(seqTtl).toMatch(/ttl-\d{10}$/);
    expect(await failureCode(zk.create(`${root}/ttl-missing`, EMPTY, 5))).toBe(-8);
    const container = await zk.create(`${root}/container`, EMPTY, 4);
    expect(container).toBe(`${root}/container`);
    expect((await zk.exists(container, false)).version).toBe(0);
  });

  it('multi applies all operations or none', async () => {
    const path = `${root}/multi`;
    const results = await zk.multi!([
      { type: 'create', path, data: bytes('a'), flags: 0, acl: [] },
      { type: 'create', path: `${path}/c`, data: EMPTY, flags: 0, acl: [] },
      { type: 'set', path, data: bytes('b'), version: 0 },
      { type: 'check', path: `${path}/c`, version: 0 },
      { type: 'delete', path: `${path}/c`, version: 0 },
    ]);
    expect(results.map((r) => r.type)).toEqual(['create', 'create', 'set', 'check', 'delete']);
    expect(results[0]).toEqual({ type: 'create', path });
    expect(results[2]).toMatchObject({ type: 'set', stat: { version: 1 } });

    const failure = await rejection(
      zk.multi!([
        { type: 'set', path, data: bytes('lost'), version: 1 },
        { type: 'create', path: `${path}/new`, data: EMPTY, flags: 0, acl: [] },
        { type: 'check', path, version: 7 },
        { type: 'delete', path, version: -1 },
      ]),
    );
    expect(failure).toBeInstanceOf(MultiFailure);
    expect(failure).toMatchObject({ rc: -103, index: 2, codes: [0, 0, -103, -2] });
    const { data, stat } = await zk.get(path, false);
    expect([data.toString(), stat.version, stat.numChildren]).toEqual(['b', 1, 0]);
    expect(await zk.multi!([])).toEqual([]);
  });

  it('a one-shot watch fires once; exists on a missing node watches its creation', async () => {
    const { session, events } = await sessions.open({ connectString: testConnectString() });
    const path = `${root}/watched`;
    expect(await failureCode(session.exists(path, true))).toBe(-101);
    await zk.create(path, EMPTY, 0);
    expect(await events.watched(path, 1)).toEqual([WatchEventType.CREATED]);

    await session.get(path, true);
    await session.getChildren(path, true);
    await zk.set(path, bytes('1'), -1);
    await zk.set(path, bytes('2'), -1);
    await zk.create(`${path}/child`, EMPTY, 0);
    await zk.create(`${path}/child2`, EMPTY, 0);
    await events.watched(path, 3);
    // The server sends a session's notifications before its reply to a later request of that
    // session: once this sync is answered, a second CHANGED or CHILDREN would be here already.
    await session.sync(path);
    expect(events.watchesOf(path)).toEqual([
      WatchEventType.CREATED,
      WatchEventType.CHANGED,
      WatchEventType.CHILDREN,
    ]);

    await session.exists(path, true);
    await zk.delete(`${path}/child`, -1);
    await zk.delete(`${path}/child2`, -1);
    await zk.delete(path, -1);
    expect((await events.watched(path, 4)).slice(3)).toEqual([WatchEventType.DELETED]);
    // Nothing more may arrive, and an absence has no event to await: the pause gives a wrongly
    // repeated notification time to show.
    await sleep(200);
    expect(events.watchesOf(path)).toHaveLength(4);
  });

  it('persistent and persistent-recursive watches stay until removed', async () => {
    const { session, events } = await sessions.open({ connectString: testConnectString() });
    const top = `${root}/tree`;
    await zk.create(top, EMPTY, 0);
    await session.addWatch!(top, PersistentWatchMode.PERSISTENT_RECURSIVE);
    await zk.create(`${top}/a`, EMPTY, 0);
    await zk.create(`${top}/a/b`, EMPTY, 0);
    await zk.set(`${top}/a/b`, bytes('x'), -1);
    await zk.set(`${top}/a/b`, bytes('y'), -1);
    await zk.delete(`${top}/a/b`, -1);
    await events.watched(`${top}/a/b`, 4);
    expect(events.watchesOf(`${top}/a/b`)).toEqual([
      WatchEventType.CREATED,
      WatchEventType.CHANGED,
      WatchEventType.CHANGED,
      WatchEventType.DELETED,
    ]);
    expect(events.watchesOf(`${top}/a`)).toEqual([WatchEventType.CREATED]);

    await session.removePersistentWatch!(top);
    await zk.set(`${top}/a`, bytes('unseen'), -1);
    await zk.sync(top);
    await session.sync(top);
    // Nothing may arrive for the removed watch, and an absence has no event to await: the sync
    // orders the server's notifications before its reply, the pause covers a late one.
    await sleep(200);
    expect(events.watchesOf(`${top}/a`)).toEqual([WatchEventType.CREATED]);
    expect(await failureCode(session.removePersistentWatch!(top))).toBe(-121);

    await session.addWatch!(top, PersistentWatchMode.PERSISTENT);
    await zk.set(top, bytes('1'), -1);
    await zk.set(top, bytes('2'), -1);
    await zk.create(`${top}/c`, EMPTY, 0);
    expect(await events.watched(top, 3)).toEqual([
      WatchEventType.CHANGED,
      WatchEventType.CHANGED,
      WatchEventType.CHILDREN,
    ]);
  });

  it('a chroot prefixes request paths and is stripped from results and events', async () => {
    const chroot = `${root}/chroot`;
    await zk.create(chroot, EMPTY, 0);
    const { session, events } = await sessions.open({
      connectString: `${testConnectString()}${chroot}`,
    });
    expect(await session.create('/x', bytes('in'), 0)).toBe('/x');
    expect((await zk.get(`${chroot}/x`, false)).data.toString()).toBe('in');
    expect((await session.getChildren('/', false)).children).toEqual(['x']);
    const [seqResult] = await session.multi!([
      { type: 'create', path: '/s-', data: EMPTY, flags: 2, acl: [] },
    ]);
    expect(seqResult).toMatchObject({
      type: 'create',
      path: expect.stringMatching(/^\/s-\d{10}$/),
    });
    await session.get('/x', true);
    await session.getChildren('/', true);
    await zk.set(`${chroot}/x`, bytes('changed'), -1);
    await zk.create(`${chroot}/y`, EMPTY, 0);
    expect(await events.watched('/x')).toEqual([WatchEventType.CHANGED]);
    expect(await events.watched('/')).toEqual([WatchEventType.CHILDREN]);
  });

  it('digest auth: the right credentials read a protected node, wrong ones get NO_AUTH', async () => {
    const { session: owner } = await sessions.open({ connectString: testConnectString() });
    await owner.addAuth('digest', 'app:right');
    const path = await owner.create(`${root}/secret`, bytes('s'), 0, undefined, [
      digestAcl('app', 'right'),
    ]);
    expect((await owner.get(path, false)).data.toString()).toBe('s');
    const { session: intruder } = await sessions.open({ connectString: testConnectString() });
    await intruder.addAuth('digest', 'app:wrong');
    expect(await failureCode(intruder.get(path, false))).toBe(-102);
    expect(await failureCode(zk.get(path, false))).toBe(-102);
  });

  it('an auth scheme the server refuses: addAuth rejects AUTH_FAILED and the session closes (-113)', async () => {
    const { session, events } = await sessions.open({ connectString: testConnectString() });
    const pending = session.exists('/', false);
    expect(await failureCode(session.addAuth('no-such-scheme', 'x'))).toBe(-115);
    await events.reached('closed -113');
    expect(session.isEnded).toBe(true);
    await pending.catch(() => undefined);
    expect(await failureCode(session.exists('/', false))).toBe(-9);
    expect(events.states).toEqual(['connected', 'closed -113']);
  });

  it("requests above the servers' jute.maxbuffer (0xfffff) are refused unsent; the link stays", async () => {
    const path = await zk.create(`${root}/limit`, EMPTY, 0);
    const { session, events } = await sessions.open({ connectString: testConnectString() });
    // setData: xid, type, path, data, version; the payload is 20 + path + data bytes.
    const fits = 0xfffff - 20 - Buffer.byteLength(path);
    const tooBig = await rejection(session.set(path, Buffer.alloc(fits + 100, 1), -1));
    expect(tooBig).toBeInstanceOf(FrameTooLargeError);
    expect((tooBig as Error).message).toContain(`request is ${0xfffff + 100} bytes`);
    expect((tooBig as Error).message).toContain(`limit of ${0xfffff} bytes`);
    expect((await session.set(path, Buffer.alloc(fits, 2), -1)).dataLength).toBe(fits);
    // A reply above jute.maxbuffer (value, stat and header) is still read.
    expect((await session.get(path, false)).data.length).toBe(fits);
    expect(events.states).toEqual(['connected']);
  });

  it('maxFrameBytes: a larger request is refused unsent, a larger reply fails only its request', async () => {
    const path = await zk.create(`${root}/big`, Buffer.alloc(8000, 1), 0);
    const { session } = await sessions.open({
      connectString: testConnectString(),
      maxFrameBytes: 4096,
    });
    const tooBig = await rejection(session.set(path, Buffer.alloc(5000), -1));
    expect(tooBig).toBeInstanceOf(FrameTooLargeError);
    expect((tooBig as Error).message).toContain('request is 5');
    expect((await zk.exists(path, false)).version).toBe(0);

    const before = session.exists(path, false);
    const replyTooBig = rejection(session.get(path, false));
    const after = session.get(`${root}/empty`, false);
    expect((await before).dataLength).toBe(8000);
    const error = await replyTooBig;
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as Error).message).toContain('reply is');
    expect((await after).data).toEqual(EMPTY);
    expect(session.isEnded).toBe(false);
  });

  it('close(): requests sent settle from their replies, later ones INVALID_STATE, nothing is reported after', async () => {
    const { session, events } = await sessions.open({ connectString: testConnectString() });
    const exists = session.exists('/', false);
    const get = session.get('/', false);
    session.close();
    expect((await exists).numChildren).toBeGreaterThan(0);
    expect((await get).stat.numChildren).toBeGreaterThan(0);
    expect(await failureCode(session.exists('/', false))).toBe(-9);
    expect(await failureCode(session.addAuth('digest', 'a:b'))).toBe(-9);
    expect(session.isEnded).toBe(true);
    session.close();
    await sleep(200);
    expect(events.states).toEqual(['connected']);
  });

  it('close() in the tick of a set: the set is applied and resolves, or fails CLOSING and is not', async () => {
    const path = await zk.create(`${root}/closing`, bytes('v0'), 0);
    const { session } = await sessions.open({ connectString: testConnectString() });
    const set = session.set(path, bytes('v1'), -1).then(
      (stat) => ({ applied: true, version: stat.version }),
      (error: DriverFailure) => ({ applied: false, rc: error.rc }),
    );
    session.close();
    const outcome = await set;
    const { data } = await zk.get(path, false);
    expect(outcome.applied ? 'v1' : 'v0').toBe(data.toString());
    expect(outcome).toEqual({ applied: true, version: 1 });
  });

  it('close() while connecting: queued requests fail CLOSING and are never sent', async () => {
    const path = `${root}/never`;
    const { session } = sessions.create({ connectString: testConnectString() });
    const create = session.create(path, EMPTY, 0);
    session.close();
    expect(await failureCode(create)).toBe(-116);
    await sleep(300);
    expect(await failureCode(zk.exists(path, false))).toBe(-101);
  });

  it('2,000 pipelined requests complete in order', async () => {
    const path = await zk.create(`${root}/pipeline`, EMPTY, 0);
    const order: number[] = [];
    const requests = Array.from({ length: 2000 }, (_, i) =>
      zk.set(path, bytes(`v${i}`), -1).then((stat) => {
        order.push(i);
        return stat.version;
      }),
    );
    const versions = await Promise.all(requests);
    expect(versions).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(order).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect((await zk.get(path, false)).data.toString()).toBe('v1999');
  });

  it('requests before the first connect are queued and sent once connected', async () => {
    const { session, events } = sessions.create({ connectString: testConnectString() });
    const early = session.exists('/', false);
    expect(events.states).toEqual([]);
    expect((await early).numChildren).toBeGreaterThan(0);
    expect(events.states).toEqual(['connected']);
  });

  it('DriverFailure carries the code and a text', async () => {
    const error = await rejection(zk.get(`${root}/nothing`, false));
    expect(error).toBeInstanceOf(DriverFailure);
    expect(error).toMatchObject({ rc: -101, message: 'no node' });
  });
});
