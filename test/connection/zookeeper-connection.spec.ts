import { describe, expect, it } from '@jest/globals';
import {
  BadVersionError,
  ConnectionClosedError,
  ConnectTimeoutError,
  CreateMode,
  digestAcl,
  InvalidOptionsError,
  InvalidPathError,
  NoAuthError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  Permission,
  READ_ACL_UNSAFE,
  sequenceNumber,
  WatchEvent,
  WatchEventType,
  ZookeeperConnection,
  ZookeeperError,
} from 'nestjs-zookeeper';
import { silentLogger, useTestConnections } from '../support/connect.js';

const connections = useTestConnections('connection');

function nextWatchEvent(): {
  watcher: (event: WatchEvent) => void;
  fired: Promise<WatchEvent>;
  count: () => number;
} {
  let calls = 0;
  let resolve!: (event: WatchEvent) => void;
  const fired = new Promise<WatchEvent>((r) => (resolve = r));
  return {
    watcher: (event) => {
      calls++;
      resolve(event);
    },
    fired,
    count: () => calls,
  };
}

describe('ZookeeperConnection operations', () => {
  it('creates, reads, updates with a version check and deletes a node', async () => {
    const { zk } = connections;
    expect(await zk.create('/crud', 'v1')).toBe('/crud');
    const read = await zk.get('/crud');
    expect(read.data.toString()).toBe('v1');
    expect(read.stat.version).toBe(0);

    const stat = await zk.set('/crud', Buffer.from('v2'), { version: 0 });
    expect(stat.version).toBe(1);
    await expect(zk.set('/crud', 'v3', { version: 0 })).rejects.toBeInstanceOf(BadVersionError);
    expect((await zk.get('/crud')).data.toString()).toBe('v2');

    await zk.delete('/crud', { version: 1 });
    expect(await zk.exists('/crud')).toBeUndefined();
  });

  it('reports typed errors carrying code, path and operation', async () => {
    const { zk } = connections;
    const missing = await zk.get('/missing').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NoNodeError);
    expect(missing).toMatchObject({ code: -101, path: '/missing', operation: 'get' });
    expect((missing as Error).message).toContain("get '/missing'");

    await zk.create('/twice');
    await expect(zk.create('/twice')).rejects.toBeInstanceOf(NodeExistsError);
    await zk.create('/twice/child');
    const notEmpty = await zk.delete('/twice').catch((error: unknown) => error);
    expect(notEmpty).toBeInstanceOf(NotEmptyError);
    expect(notEmpty).toBeInstanceOf(ZookeeperError);
    await expect(zk.create('/no/parent/here')).rejects.toBeInstanceOf(NoNodeError);
  });

  it('rejects invalid paths before they reach the server, saying why', async () => {
    const { zk } = connections;
    const cases: Array<[string, string]> = [
      ['relative', 'must start with "/"'],
      ['/a//b', 'empty segment'],
      ['/a/', 'must not end with "/"'],
      ['/a/../b', 'relative segment'],
      ['/a\u0001b', 'U+0001'],
      ['', 'empty'],
    ];
    for (const [path, reason] of cases) {
      const error = await zk.get(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPathError);
      expect((error as InvalidPathError).reason).toContain(reason);
    }
    await expect(zk.create('/bad', 42 as unknown as string)).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
    expect(() => new ZookeeperConnection({ connectString: '' })).toThrow(InvalidOptionsError);
    for (const connectString of ['garbage', '127.0.0.1:99999', 'a:2181,,b:2181', 'host:port']) {
      expect(() => new ZookeeperConnection({ connectString })).toThrow(/bad server entry/);
    }
    expect(() => new ZookeeperConnection({ connectString: 'a:2181,b:2182/chroot' })).not.toThrow();
  });

  it('creates sequential nodes with protected names, in order', async () => {
    const { zk } = connections;
    await zk.create('/seq');
    const created: string[] = [];
    for (let i = 0; i < 5; i++)
      created.push(
        await zk.create('/seq/item-', `n${i}`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
      );
    expect(created).toHaveLength(5);
    for (const path of created) expect(path).toMatch(/^\/seq\/_c_[0-9a-f-]{36}-item-\d{10}$/);
    const sequences = created.map((path) => sequenceNumber(path)!);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(5);
    const plain = await zk.create('/seq/plain-', '', {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
      protected: false,
    });
    expect(plain).toMatch(/^\/seq\/plain-\d{10}$/);
    expect(await zk.getChildren('/seq')).toHaveLength(6);
  });

  it('creates ephemeral, container and TTL nodes, and parents on demand', async () => {
    const { zk } = connections;
    const ephemeral = await zk.create('/modes/eph', 'x', {
      mode: CreateMode.EPHEMERAL,
      createParents: true,
    });
    expect((await zk.exists(ephemeral))!.ephemeralOwner).toBe(zk.session.id);
    await zk.create('/modes/container', '', { mode: CreateMode.CONTAINER });
    await zk.create('/modes/ttl', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 60_000 });
    expect(await zk.getChildren('/modes')).toEqual(
      expect.arrayContaining(['eph', 'container', 'ttl']),
    );
    await expect(
      zk.create('/modes/ttl2', 'x', { mode: CreateMode.PERSISTENT_WITH_TTL }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('fires a one-shot data watch exactly once and keeps no watcher afterwards', async () => {
    const { zk } = connections;
    await zk.create('/watched', 'a');
    const watch = nextWatchEvent();
    await zk.get('/watched', { watch: watch.watcher });
    expect(zk.pendingWatchCount).toBe(1);
    await zk.set('/watched', 'b');
    expect(await watch.fired).toEqual({ type: WatchEventType.CHANGED, path: '/watched' });
    await zk.set('/watched', 'c');
    await zk.sync('/watched');
    expect(watch.count()).toBe(1);
    expect(zk.pendingWatchCount).toBe(0);
  });

  it('watches children, creation of a missing node and deletion', async () => {
    const { zk } = connections;
    await zk.create('/parent');
    const children = nextWatchEvent();
    expect(await zk.getChildren('/parent', { watch: children.watcher })).toEqual([]);
    await zk.create('/parent/kid');
    expect(await children.fired).toEqual({ type: WatchEventType.CHILDREN, path: '/parent' });

    const creation = nextWatchEvent();
    expect(await zk.exists('/later', { watch: creation.watcher })).toBeUndefined();
    await zk.create('/later');
    expect(await creation.fired).toEqual({ type: WatchEventType.CREATED, path: '/later' });

    const deletion = nextWatchEvent();
    await zk.exists('/later', { watch: deletion.watcher });
    await zk.delete('/later');
    expect(await deletion.fired).toEqual({ type: WatchEventType.DELETED, path: '/later' });

    // A get on a missing node sets no watch on the server, so none is kept here either.
    await expect(zk.get('/never', { watch: () => undefined })).rejects.toBeInstanceOf(NoNodeError);
    expect(zk.pendingWatchCount).toBe(0);
  });

  it('deletes a subtree recursively', async () => {
    const { zk } = connections;
    await zk.create('/tree/a/b/c', '', { createParents: true });
    await zk.create('/tree/d', '');
    await zk.delete('/tree', { recursive: true });
    expect(await zk.exists('/tree')).toBeUndefined();
  });

  it('keeps every path inside its namespace', async () => {
    const { zk } = connections;
    const other = await connections.open({ namespace: `${connections.namespace}/other` });
    await other.create('/only-here', 'x');
    expect(await zk.exists('/other/only-here')).toBeDefined();
    expect(await other.exists('/crud-from-other')).toBeUndefined();
  });

  it('enforces ACLs: NoAuth without credentials, access with them', async () => {
    const { zk } = connections;
    await zk.create('/secret', 'classified', { acl: [digestAcl('app', 's3cret')] });
    const denied = await zk.get('/secret').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(NoAuthError);
    expect((denied as Error).message).toContain('not authorized');
    await expect(zk.getAcl('/secret')).rejects.toBeInstanceOf(NoAuthError);
    await expect(zk.getAcl('/no-such-node')).rejects.toBeInstanceOf(NoNodeError);

    const authorized = await connections.open({
      auth: [{ scheme: 'digest', credentials: 'app:s3cret' }],
    });
    expect((await authorized.get('/secret')).data.toString()).toBe('classified');
    expect((await authorized.getAcl('/secret')).acl).toEqual([digestAcl('app', 's3cret')]);

    await zk.create('/readonly', 'r', { acl: READ_ACL_UNSAFE });
    await expect(zk.set('/readonly', 'w')).rejects.toBeInstanceOf(NoAuthError);
    expect((await zk.getAcl('/readonly')).acl[0].perms).toBe(Permission.READ);
  });

  it('applies the ACL in the create request where the driver can: the node never had another', async () => {
    const { zk } = connections;
    await zk.create('/acl-at-birth', 'x', { acl: READ_ACL_UNSAFE });
    const { stat } = await zk.getAcl('/acl-at-birth');
    // aversion counts ACL changes: 0 means the node was born with this ACL; on a driver without
    // createWithAcl the follow-up setAcl makes it 1 (the node was open in between).
    expect(stat.aversion).toBe(zk.capabilities.createWithAcl ? 0 : 1);
  });

  it('fails to connect to a dead port with a clear error within the deadline', async () => {
    const started = Date.now();
    const connection = new ZookeeperConnection({
      connectString: '127.0.0.1:1',
      connectTimeoutMs: 1500,
      logger: silentLogger,
    });
    const error = await connection.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as Error).message).toContain("'127.0.0.1:1'");
    expect((error as Error).message).toContain('1500 ms');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(connection.state).toBe('CLOSED');
    await expect(connection.whenConnected()).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(connection.connect()).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(connection.get('/')).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
