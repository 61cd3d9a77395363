import { describe, expect, it } from '@jest/globals';
import { LockLoss, Mutex, nodeName, orderContenders, ZookeeperConnection } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { testConnectString, useTestConnections } from '../../support/connect.js';
import { LineProcess, spawnFixture } from '../../support/line-process.js';
import { until } from '../../support/until.js';

const connections = useTestConnections('mutex');

const PROTECTED_LOCK_NAME =
  /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lock-\d{10}$/;

function waitForQueue(zk: ZookeeperConnection, path: string, length: number): Promise<void> {
  return until(async () => (await zk.getChildren(path).catch(() => [])).length === length, {
    message: `${path} has ${length} children`,
    timeoutMs: 10_000,
  });
}

describe('orderContenders', () => {
  it('orders by the sequence after the marker, ignoring protected prefixes and strangers', () => {
    const names = [
      '_c_ffffffff-0000-0000-0000-000000000000-lock-0000000003',
      'lock-0000000010',
      '_c_00000000-0000-0000-0000-000000000000-lock-0000000007',
      'not-a-contender',
      'lock-',
    ];
    expect(orderContenders('/l', names, ['lock-']).map((node) => node.sequence)).toEqual([
      '0000000003',
      '0000000007',
      '0000000010',
    ]);
    const rw = orderContenders(
      '/rw',
      ['x-__WRITE__0000000002', 'y-__READ__0000000001'],
      ['__READ__', '__WRITE__'],
    );
    expect(rw.map((node) => [node.marker, node.path])).toEqual([
      ['__READ__', '/rw/y-__READ__0000000001'],
      ['__WRITE__', '/rw/x-__WRITE__0000000002'],
    ]);
  });
});

describe('Mutex', () => {
  it('queues a protected ephemeral sequential lock- node, like Curator, and deletes it on release', async () => {
    const zk = await connections.open();
    const mutex = new Mutex(zk, '/locks/naming');
    expect(await mutex.acquire()).toBe(true);
    expect(mutex.isHeld).toBe(true);
    expect(nodeName(mutex.nodePath!)).toMatch(PROTECTED_LOCK_NAME);
    expect((await zk.exists(mutex.nodePath!))!.ephemeralOwner).toBe(zk.session.id);
    await mutex.release();
    expect(mutex.isHeld).toBe(false);
    expect(mutex.status).toBe('released');
    expect(await zk.getChildren('/locks/naming')).toEqual([]);
    await expect(mutex.release()).rejects.toThrow(/not held/);
  });

  it('acquire with a timeout returns false while another holds the lock, and leaves no node behind', async () => {
    const holder = new Mutex(await connections.open(), '/locks/timeout');
    const zk = await connections.open();
    const waiter = new Mutex(zk, '/locks/timeout');
    expect(await holder.acquire()).toBe(true);

    const started = Date.now();
    expect(await waiter.acquire({ timeoutMs: 300 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(waiter.isHeld).toBe(false);
    expect(await zk.getChildren('/locks/timeout')).toEqual([nodeName(holder.nodePath!)]);

    await holder.release();
    expect(await waiter.acquire({ timeoutMs: 2000 })).toBe(true);
    await waiter.release();
    expect(await zk.getChildren('/locks/timeout')).toEqual([]);
  });

  it('is re-entrant within one instance: one node, released after as many releases as acquires', async () => {
    const zk = await connections.open();
    const mutex = new Mutex(zk, '/locks/reentrant');
    const other = new Mutex(await connections.open(), '/locks/reentrant');

    expect(await mutex.acquire()).toBe(true);
    const node = mutex.nodePath;
    expect(await mutex.acquire({ timeoutMs: 0 })).toBe(true);
    expect(mutex.holdCount).toBe(2);
    expect(mutex.nodePath).toBe(node);
    expect(await zk.getChildren('/locks/reentrant')).toHaveLength(1);

    await mutex.release();
    expect(mutex.isHeld).toBe(true);
    expect(await other.acquire({ timeoutMs: 200 })).toBe(false);

    await mutex.release();
    expect(mutex.isHeld).toBe(false);
    expect(await other.acquire({ timeoutMs: 2000 })).toBe(true);
    await other.release();
  });

  it('lets waiters in first-come first-served, each waking only on its predecessor', async () => {
    const zk = await connections.open();
    const holder = new Mutex(zk, '/locks/fifo');
    await holder.acquire();
    const order: number[] = [];
    const waiters = await Promise.all([1, 2, 3].map(() => connections.open()));
    const pending: Promise<void>[] = [];
    for (const [index, connection] of waiters.entries()) {
      const mutex = new Mutex(connection, '/locks/fifo');
      pending.push(
        mutex.acquire().then(async () => {
          order.push(index);
          await mutex.release();
        }),
      );
      await waitForQueue(zk, '/locks/fifo', index + 2);
    }
    // Each waiter watches one node, its predecessor: a release wakes one waiter only.
    const oneWatchEach = () => waiters.every((connection) => connection.pendingWatchCount === 1);
    await until(oneWatchEach, {
      message: 'each waiter has one pending watch',
      timeoutMs: 10_000,
    }).finally(() => holder.release());
    await Promise.all(pending);
    expect(order).toEqual([0, 1, 2]);
  });

  it('4 processes x 100 plain read-add-write increments under the mutex total exactly 400', async () => {
    const zk = await connections.open();
    await zk.create('/counter', '0');
    const children: LineProcess[] = [1, 2, 3, 4].map((n) =>
      spawnFixture(`incrementer-${n}`, 'test/recipes/mutex/fixtures/incrementer.ts', [
        testConnectString(),
        connections.namespace,
        '/locks/counter',
        '/counter',
        '100',
      ]),
    );
    try {
      await Promise.all(children.map((child) => child.waitForWord('ready', 30_000)));
      for (const child of children) child.send('go');
      await Promise.all(children.map((child) => child.waitForWord('done', 60_000)));
      expect(Number((await zk.get('/counter')).data.toString())).toBe(400);
      expect(await zk.getChildren('/locks/counter')).toEqual([]);
    } finally {
      await Promise.all(children.map((child) => child.stop()));
    }
  }, 90_000);

  it('tells a holder whose session expires, and passes the lock to the next waiter', async () => {
    const holderConnection = await connections.open();
    const zk = await connections.open();
    const holder = new Mutex(holderConnection, '/locks/expiry');
    const waiter = new Mutex(zk, '/locks/expiry');
    const losses: LockLoss[] = [];
    holder.lost$.subscribe((loss) => losses.push(loss));

    expect(await holder.acquire()).toBe(true);
    const heldNode = holder.nodePath!;
    const waiting = waiter.acquire({ timeoutMs: 15_000 });
    await waitForQueue(zk, '/locks/expiry', 2);

    await expireSession(holderConnection);
    expect(await waiting).toBe(true);
    // The intruder closing the session drops the link first: `suspended`, then `expired`.
    expect(losses.at(-1)).toEqual({ reason: 'expired', definite: true, path: heldNode });
    expect(losses.slice(0, -1).every((loss) => loss.reason === 'suspended')).toBe(true);
    expect(holder.status).toBe('lost');
    expect(holder.isHeld).toBe(false);
    await expect(holder.acquire()).rejects.toThrow(/was lost/);

    await holder.release();
    expect(holder.status).toBe('released');
    expect(await zk.getChildren('/locks/expiry')).toEqual([nodeName(waiter.nodePath!)]);
    await waiter.release();
  });
});
