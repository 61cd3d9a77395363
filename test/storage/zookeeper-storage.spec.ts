import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadVersionError,
  ConnectionState,
  BufferSerializer,
  digestAcl,
  InvalidKeyError,
  InvalidValueError,
  NoAuthError,
  NodeExistsError,
  SerializationError,
  ValueTooLargeError,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { statesUntil, useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

let storage: ZookeeperStorage;
afterAll(() => storage.close()); // declared first: runs before the connections close
const connections = useTestConnections('storage');
beforeAll(() => {
  storage = new ZookeeperStorage(connections.zk);
});

describe('ZookeeperStorage', () => {
  it('stores JSON values readable by any ZooKeeper client, with versions', async () => {
    const { zk } = connections;
    const first = await storage.set('config/app', { maxOrders: 10, regions: ['eu', 'us'] });
    expect(first.version).toBe(0);
    expect((await zk.get('/storage/config/app')).data.toString()).toBe(
      '{"maxOrders":10,"regions":["eu","us"]}',
    );
    const entry = await storage.get<{ maxOrders: number }>('config/app');
    expect(entry).toMatchObject({
      key: 'config/app',
      value: { maxOrders: 10, regions: ['eu', 'us'] },
      version: 0,
    });
    expect((await storage.set('config/app', { maxOrders: 20 })).version).toBe(1);
    expect(await storage.getValue('config/app')).toEqual({ maxOrders: 20 });
    expect(await storage.get('config/missing')).toBeUndefined();
    expect(await storage.has('config/app')).toBe(true);
    expect(await storage.has('config/missing')).toBe(false);

    await storage.set('text', 'plain string');
    expect(await storage.getValue('text')).toBe('plain string');
  });

  it('gives a value back as the type it was stored as: bytes need the BufferSerializer', async () => {
    const { zk } = connections;
    // Bytes that happen to be JSON text would read back parsed (42, not the Buffer): refused.
    const refused = storage.set('bytes', Buffer.from('42'));
    await expect(refused).rejects.toBeInstanceOf(SerializationError);
    await expect(refused).rejects.toThrow(/BufferSerializer/);
    expect(await storage.has('bytes')).toBe(false);

    const bytes = new ZookeeperStorage(zk, { serializer: new BufferSerializer() });
    await bytes.set('bytes', Buffer.from('42'));
    expect(await bytes.getValue('bytes')).toEqual(Buffer.from('42'));
    await zk.set('/storage/bytes', Buffer.from([0xff, 0x00, 0x01]));
    // Bytes another client wrote that are not JSON still read back, as a Buffer.
    expect(await storage.getValue('bytes')).toEqual(Buffer.from([0xff, 0x00, 0x01]));
  });

  it('znodePath names the full server path, namespace included', async () => {
    const raw = await connections.open({ namespace: undefined });
    await storage.set('where/am-i', 'here');
    const path = storage.znodePath('where/am-i');
    expect(path).toBe(`${connections.namespace}/storage/where/am-i`);
    expect((await raw.get(path)).data.toString()).toBe('"here"');
    expect(storage.scope('where').znodePath('am-i')).toBe(path);
  });

  it('compare-and-set: expectedVersion, create, delete with version', async () => {
    const { version } = await storage.set('cas', 1);
    await expect(storage.set('cas', 2, { expectedVersion: version + 1 })).rejects.toBeInstanceOf(
      BadVersionError,
    );
    expect((await storage.set('cas', 2, { expectedVersion: version })).version).toBe(version + 1);
    await expect(storage.create('cas', 3)).rejects.toBeInstanceOf(NodeExistsError);
    await expect(storage.delete('cas', { expectedVersion: 0 })).rejects.toBeInstanceOf(
      BadVersionError,
    );
    await storage.delete('cas', { expectedVersion: 1 });
    expect(await storage.has('cas')).toBe(false);
    expect((await storage.create('cas', 'again')).version).toBe(0);
  });

  it('update retries on conflicts and increment counts from zero', async () => {
    expect(
      (await storage.update<number[]>('list', (items) => [...(items ?? []), 1])).value,
    ).toEqual([1]);
    expect(
      (await storage.update<number[]>('list', (items) => [...(items ?? []), 2])).value,
    ).toEqual([1, 2]);
    expect(await storage.increment('counter')).toBe(1);
    expect(await storage.increment('counter', 41)).toBe(42);
    await storage.set('not-a-number', 'x');
    await expect(storage.increment('not-a-number')).rejects.toBeInstanceOf(InvalidValueError);
  });

  it('8 separate sessions incrementing one counter 250 times each end at exactly 2000', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => connections.open()));
    const storages = clients.map((client) => new ZookeeperStorage(client));
    await Promise.all(
      storages.map(async (clientStorage) => {
        for (let i = 0; i < 250; i++) await clientStorage.increment('contended');
      }),
    );
    expect(await storage.getValue('contended')).toBe(2000);
    expect((await storage.get('contended'))!.version).toBe(1999);
  }, 120_000);

  it('lists keys and reads and writes many at once', async () => {
    const scoped = storage.scope('orders');
    await scoped.setMany({ a: 1, b: 2, c: 3 });
    await scoped.setMany([['d', 4]]);
    expect(await scoped.list()).toEqual(['a', 'b', 'c', 'd']);
    expect(await storage.list('orders')).toEqual(['orders/a', 'orders/b', 'orders/c', 'orders/d']);
    expect((await scoped.entries()).map((entry) => [entry.key, entry.value])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ]);
    expect((await scoped.getMany(['a', 'zz', 'c'])).map((entry) => entry?.value)).toEqual([
      1,
      undefined,
      3,
    ]);
    await storage.delete('orders', { recursive: true });
    expect(await storage.list('orders')).toEqual([]);
  });

  it('rejects bad keys, oversize and unserializable values with typed errors, and keeps serving', async () => {
    const { zk } = connections;
    const badKeys: Array<[unknown, string]> = [
      ['', 'empty'],
      ['a//b', 'empty segment'],
      ['a/', 'empty segment'],
      ['a/../b', 'relative segment'],
      ['a/\u0007', 'U+0007'],
      ['__chunks/x', 'reserved'],
      ['zookeeper/quota', 'reserved by ZooKeeper'],
      ['x'.repeat(1025), 'longer than 1024'],
      [42, 'must be a string'],
    ];
    for (const [key, rule] of badKeys) {
      const error = await storage.set(key as string, 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidKeyError);
      expect((error as InvalidKeyError).rule).toContain(rule);
    }

    const strict = new ZookeeperStorage(zk, {
      root: '/strict',
      chunking: false,
      maxNodeBytes: 1000,
    });
    const tooLarge = await strict.set('big', 'x'.repeat(5000)).catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(ValueTooLargeError);
    expect(tooLarge).toMatchObject({ size: 5002, limit: 1000 });
    expect(await strict.has('big')).toBe(false);

    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(storage.set('bad-value', circular)).rejects.toBeInstanceOf(SerializationError);
    await expect(storage.set('bad-value', 10n)).rejects.toBeInstanceOf(SerializationError);
    await expect(storage.set('bad-value', undefined)).rejects.toBeInstanceOf(SerializationError);
    await expect(
      new ZookeeperStorage(zk, { serializer: new BufferSerializer() }).set('x', 'not bytes'),
    ).rejects.toBeInstanceOf(SerializationError);
    expect(await storage.has('bad-value')).toBe(false);

    await zk.create('/storage/protected', '"secret"', { acl: [digestAcl('admin', 'pw')] });
    await expect(storage.get('protected')).rejects.toBeInstanceOf(NoAuthError);
    await expect(storage.set('protected', 'mine')).rejects.toBeInstanceOf(NoAuthError);

    await storage.set('still-serving', true);
    expect(await storage.getValue('still-serving')).toBe(true);
  });

  it('stores TTL keys as TTL nodes that the server removes once they expire', async () => {
    const { zk } = connections;
    await storage.set('session-cache', { user: 1 }, { ttlMs: 500 });
    expect(await storage.getValue('session-cache')).toEqual({ user: 1 });
    await storage.set('long-lived', { user: 2 }, { ttlMs: 600_000 });
    // The testing server reaps expired TTL nodes every second; the deletion is watched, not slept on.
    const deleted = new Promise(
      (resolve) => void zk.exists('/storage/session-cache', { watch: resolve }),
    );
    expect(await deleted).toMatchObject({ type: 'deleted' });
    expect(await storage.has('session-cache')).toBe(false);
    expect(await storage.getValue('long-lived')).toEqual({ user: 2 });
  });

  it('re-creates ephemeral keys after a session expiry, unless told not to', async () => {
    const { zk } = connections;
    const owner = await connections.open();
    const keeping = new ZookeeperStorage(owner);
    const forgetting = new ZookeeperStorage(owner, {
      root: '/storage-forgetful',
      recreateEphemeralsOnExpiry: false,
    });
    await keeping.set('presence/worker-1', { pid: 1 }, { ephemeral: true });
    await forgetting.set('presence/worker-2', { pid: 2 }, { ephemeral: true });
    expect((await zk.exists('/storage/presence/worker-1'))!.ephemeralOwner).toBe(owner.session.id);

    const oldSession = owner.session.id;
    const recreated = new Promise<void>((resolve, reject) => {
      const check = async (): Promise<void> => {
        const stat = await zk.exists('/storage/presence/worker-1', {
          watch: (event) => event.type !== 'session-lost' && void check().catch(reject),
        });
        if (stat && stat.ephemeralOwner !== oldSession) resolve();
      };
      void check().catch(reject);
    });
    await expireSession(owner);
    await recreated;
    expect((await zk.exists('/storage/presence/worker-1'))!.ephemeralOwner).toBe(owner.session.id);
    expect(await keeping.getValue('presence/worker-1')).toEqual({ pid: 1 });
    expect(await forgetting.has('presence/worker-2')).toBe(false);
    keeping.close();
    forgetting.close();
  });

  it('close() also stops re-creating the ephemeral keys of its scopes', async () => {
    const { zk } = connections;
    const owner = await connections.open();
    const closing = new ZookeeperStorage(owner, { root: '/storage-closing' });
    const staying = new ZookeeperStorage(owner, { root: '/storage-staying' });
    await closing.scope('presence').set('worker-3', { pid: 3 }, { ephemeral: true });
    await staying.set('presence/worker-4', { pid: 4 }, { ephemeral: true });
    closing.close();

    const oldSession = owner.session.id;
    await expireSession(owner);
    // The same expiry re-creates the key of the storage still open: by then the closed scope's
    // key would have been re-created too.
    await until(
      async () => {
        const stat = await zk.exists('/storage-staying/presence/worker-4');
        return stat !== undefined && stat.ephemeralOwner !== oldSession;
      },
      { message: 'the open storage re-creates its ephemeral key' },
    );
    await owner.sync('/');
    expect(await zk.exists('/storage-closing/presence/worker-3')).toBeUndefined();
    staying.close();
  });

  it('an ephemeral key lost to another session is never overwritten by the loser after its expiry', async () => {
    const { zk } = connections;
    const [winnerZk, loserZk] = await Promise.all([connections.open(), connections.open()]);
    const winner = new ZookeeperStorage(winnerZk);
    const loser = new ZookeeperStorage(loserZk);
    await winner.create('leader-key', 'winner', { ephemeral: true });
    await expect(loser.create('leader-key', 'loser', { ephemeral: true })).rejects.toBeInstanceOf(
      NodeExistsError,
    );
    const reconnected = statesUntil(loserZk, ConnectionState.CONNECTED);
    await expireSession(loserZk);
    await reconnected;
    await loserZk.sync('/');
    expect(await winner.getValue('leader-key')).toBe('winner');
    expect((await zk.exists('/storage/leader-key'))!.ephemeralOwner).toBe(winnerZk.session.id);
    winner.close();
    loser.close();
  });
});
