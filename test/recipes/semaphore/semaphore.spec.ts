import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { Lease, Semaphore } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { useTestConnections } from '../../support/connect.js';
import { until } from '../../support/until.js';

const connections = useTestConnections('semaphore');

describe('Semaphore', () => {
  it('N=2, 5 competing sessions: at most 2 holders at any time, and every session gets a lease', async () => {
    const { zk } = connections;
    const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => connections.open()));
    let holders = 0;
    let maxHolders = 0;
    let maxLeaseNodes = 0;
    const served: number[] = [];
    await Promise.all(
      sessions.map(async (session, index) => {
        const lease = await new Semaphore(session, '/limits/db', 2).acquire();
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        maxLeaseNodes = Math.max(maxLeaseNodes, (await zk.getChildren('/limits/db/leases')).length);
        expect(lease.isHeld()).toBe(true);
        expect(lease.path).toMatch(/^\/limits\/db\/leases\/_c_[0-9a-f-]{36}-lease-\d{10}$/);
        await delay(150); // work under the lease, so the holders overlap
        holders--;
        served.push(index);
        await lease.release();
      }),
    );
    expect(maxHolders).toBe(2);
    expect(maxLeaseNodes).toBeLessThanOrEqual(3); // 2 holders + at most one acquirer checking
    expect(served.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await zk.getChildren('/limits/db/leases')).toEqual([]);
    expect(await zk.getChildren('/limits/db/locks')).toEqual([]);
  });

  it('a holder whose session expires frees its lease for a waiter', async () => {
    const { zk } = connections;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => connections.open()));
    const leaseA = await new Semaphore(a, '/limits/api', 2).acquire();
    const leaseB = await new Semaphore(b, '/limits/api', 2).acquire();
    let leaseC: Lease | undefined;
    const waiting = new Semaphore(c, '/limits/api', 2).acquire().then((lease) => (leaseC = lease));
    // Waiting: its lease node is the third, and it watches the leases for room.
    await until(
      async () =>
        (await zk.getChildren('/limits/api/leases')).length === 3 && c.pendingWatchCount >= 1,
      { message: 'the third acquirer to wait for room' },
    );
    expect(leaseC).toBeUndefined();

    await expireSession(a);
    await waiting;
    expect(leaseA.isHeld()).toBe(false);
    expect(leaseB.isHeld()).toBe(true);
    expect(leaseC!.isHeld()).toBe(true);
    const leases = await zk.getChildren('/limits/api/leases');
    expect(leases.sort()).toEqual(
      [leaseB.path, leaseC!.path].map((path) => path.split('/').pop()).sort(),
    );
    await Promise.all([leaseA.release(), leaseB.release(), leaseC!.release()]);
    expect(await zk.getChildren('/limits/api/leases')).toEqual([]);
  });

  it('acquire with a timeout gives up when no lease frees up, leaving no node behind', async () => {
    const { zk } = connections;
    const held = await new Semaphore(zk, '/limits/one', 1).acquire();
    const other = await connections.open();
    const started = Date.now();
    expect(
      await new Semaphore(other, '/limits/one', 1).acquire({ timeoutMs: 300 }),
    ).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await zk.getChildren('/limits/one/leases')).toEqual([held.path.split('/').pop()]);
    expect(await zk.getChildren('/limits/one/locks')).toEqual([]);
    await held.release();
    const next = await new Semaphore(other, '/limits/one', 1).acquire({ timeoutMs: 1000 });
    expect(next?.isHeld()).toBe(true);
    await next!.release();
  });
});
