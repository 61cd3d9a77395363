import { describe, expect, it } from '@jest/globals';
import {
  CreateMode,
  instanceUri,
  ServiceInstance,
  ServiceRegistry,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { silentLogger, useTestConnections } from '../../support/connect.js';
import { until } from '../../support/until.js';
import { Recorder } from '../../support/watch-helpers.js';

const connections = useTestConnections('registry');

const registry = (connection: ZookeeperConnection) =>
  new ServiceRegistry(connection, { logger: silentLogger });
const idsOf = (instances: ServiceInstance[]) => instances.map((instance) => instance.id);

describe('ServiceRegistry', () => {
  it('3 instances from 2 sessions: instances$ converges, round-robin cycles through all, expiry re-registers', async () => {
    const [a, b] = await Promise.all([connections.open(), connections.open()]);
    const watched = new Recorder(registry(connections.zk).instances$('orders'));
    await watched.until((list) => list.length === 0, 'no instances yet');
    const registered = [
      await registry(a).register({ name: 'orders', id: 'a-1', address: '10.0.0.1', port: 8080 }),
      await registry(a).register({ name: 'orders', id: 'a-2', address: '10.0.0.2', port: 8080 }),
      await registry(b).register({
        name: 'orders',
        id: 'b-1',
        address: '10.0.0.3',
        port: 8080,
        sslPort: 8443,
        payload: { zone: 'eu-1' },
        uriSpec: '{scheme}://{address}:{ssl-port}/orders',
      }),
    ];

    const all = await watched.until((list) => list.length === 3, '3 instances');
    expect(idsOf(all)).toEqual(['a-1', 'a-2', 'b-1']);
    expect(all[2]).toEqual(registered[2].instance);
    expect(instanceUri(all[2])).toBe('https://10.0.0.3:8443/orders');
    expect(idsOf(await registry(connections.zk).instances('orders'))).toEqual([
      'a-1',
      'a-2',
      'b-1',
    ]);
    expect(await registry(connections.zk).names()).toEqual(['orders']);
    expect((await connections.zk.exists('/services/orders/a-1'))!.ephemeralOwner).toBe(
      a.session.id,
    );

    const picker = registry(connections.zk);
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) picks.push((await picker.pick('orders'))!.id);
    expect(picks).toEqual(['a-1', 'a-2', 'b-1', 'a-1', 'a-2', 'b-1']);
    const random = await picker.pick('orders', 'random');
    expect(['a-1', 'a-2', 'b-1']).toContain(random!.id);
    expect(await picker.pick('nothing-here')).toBeUndefined();

    await expireSession(a);
    await watched.until((list) => list.length === 3, 'all 3 again after the expiry', 15_000);
    for (const id of ['a-1', 'a-2']) {
      await until(
        async () =>
          (await connections.zk.exists(`/services/orders/${id}`))?.ephemeralOwner === a.session.id,
        { message: `${id} registered again in the new session`, timeoutMs: 10_000 },
      );
    }
    const again = await registry(connections.zk).instances('orders');
    // Re-registered with the same data, registration time included.
    expect(again[0]).toEqual(registered[0].instance);
    expect(watched.values.some((list) => list.length < 3)).toBe(true);

    await registered[1].update({ payload: { draining: true } });
    await watched.until((list) => (list[1].payload as any)?.draining === true, 'the update');
    await registered[1].unregister();
    await watched.until((list) => list.length === 2, 'the unregistered instance gone');
    expect(await connections.zk.exists('/services/orders/a-2')).toBeUndefined();
    watched.unsubscribe();
  });

  it('register takes over a node left at its path by an earlier session, as Curator does', async () => {
    const [old, fresh] = await Promise.all([connections.open(), connections.open()]);
    await old.create('/services/billing/fixed-id', 'leftover', {
      mode: CreateMode.EPHEMERAL,
      createParents: true,
    });
    const handle = await registry(fresh).register({
      name: 'billing',
      id: 'fixed-id',
      address: 'billing.local',
      port: 9000,
    });
    const stat = await connections.zk.exists('/services/billing/fixed-id');
    expect(stat!.ephemeralOwner).toBe(fresh.session.id);
    expect((await registry(connections.zk).instance('billing', 'fixed-id'))!.address).toBe(
      'billing.local',
    );

    // Deleted by someone else while the session lives: registered again.
    await connections.zk.delete('/services/billing/fixed-id');
    await until(
      async () =>
        (await connections.zk.exists('/services/billing/fixed-id'))?.ephemeralOwner ===
        fresh.session.id,
      { message: 'fixed-id registered again', timeoutMs: 10_000 },
    );
    await handle.unregister();
    expect(await registry(connections.zk).instances('billing')).toEqual([]);
  });
});
