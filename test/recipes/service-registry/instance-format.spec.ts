import { describe, expect, it } from '@jest/globals';
import {
  parseInstance,
  parseUriSpec,
  serializeInstance,
  ServiceRegistry,
  SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS,
  springCloudPayload,
} from 'nestjs-zookeeper';
import { silentLogger, useTestConnections } from '../../support/connect.js';

const connections = useTestConnections('registry-format');

// Hand-written from the format Curator 5's JsonInstanceSerializer produces for a Spring Cloud
// Zookeeper service (payload class ZookeeperInstance, default compatible mode: no "enabled").
const SPRING_INSTANCE =
  '{"name":"inventory","id":"0d9ad3a7-3f6e-4d53-9b55-7c1f0f4b8a21","address":"192.168.1.20",' +
  '"port":8081,"sslPort":null,"payload":{"@class":"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",' +
  '"id":"inventory-1","name":"inventory","metadata":{"instance_status":"UP"}},' +
  '"registrationTimeUTC":1718012345678,"serviceType":"DYNAMIC","uriSpec":{"parts":[' +
  '{"value":"scheme","variable":true},{"value":"://","variable":false},' +
  '{"value":"address","variable":true},{"value":":","variable":false},' +
  '{"value":"port","variable":true}]}}';

const CURATOR_FIELDS = [
  'name',
  'id',
  'address',
  'port',
  'sslPort',
  'payload',
  'registrationTimeUTC',
  'serviceType',
  'uriSpec',
];

describe('service instance JSON (Curator JsonInstanceSerializer format)', () => {
  it('reads an instance registered by Curator / Spring Cloud Zookeeper', async () => {
    const { zk } = connections;
    const id = '0d9ad3a7-3f6e-4d53-9b55-7c1f0f4b8a21';
    await zk.create(`/services/inventory/${id}`, SPRING_INSTANCE, { createParents: true });
    const registry = new ServiceRegistry(zk, { logger: silentLogger });
    const [instance] = await registry.instances('inventory');
    expect(instance).toEqual({
      name: 'inventory',
      id,
      address: '192.168.1.20',
      port: 8081,
      sslPort: null,
      payload: springCloudPayload('inventory-1', 'inventory', { instance_status: 'UP' }),
      registrationTimeUTC: 1718012345678,
      serviceType: 'DYNAMIC',
      uriSpec: parseUriSpec('{scheme}://{address}:{port}'),
    });
    expect(await registry.pick('inventory')).toEqual(instance);
  });

  it('writes the same fields, in the same order, with nulls for unset values', async () => {
    const { zk } = connections;
    const registry = new ServiceRegistry(zk, { logger: silentLogger });
    const handle = await registry.register({
      name: 'nest-orders',
      address: '10.1.2.3',
      port: 3000,
    });
    const raw = JSON.parse((await zk.get(handle.path)).data.toString());
    expect(Object.keys(raw)).toEqual(CURATOR_FIELDS);
    expect(raw).toEqual({
      name: 'nest-orders',
      id: handle.instance.id,
      address: '10.1.2.3',
      port: 3000,
      sslPort: null,
      payload: null,
      registrationTimeUTC: handle.instance.registrationTimeUTC,
      serviceType: 'DYNAMIC',
      uriSpec: null,
    });
    expect(handle.instance.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(raw.registrationTimeUTC)).toBe(true);
    expect(Math.abs(raw.registrationTimeUTC - Date.now())).toBeLessThan(60_000);
    await handle.unregister();
  });

  it('round-trips a Spring Cloud payload and a uriSpec in the Curator layout', () => {
    const bytes = serializeInstance({
      name: 'nest-orders',
      id: 'i-1',
      address: 'orders.local',
      port: 80,
      sslPort: 443,
      payload: springCloudPayload('nest-orders-1', 'nest-orders', { zone: 'a' }),
      registrationTimeUTC: 1,
      serviceType: 'DYNAMIC',
      uriSpec: parseUriSpec('{scheme}://{address}:{port}'),
    });
    const text = bytes.toString();
    expect(text).toContain(
      `"payload":{"@class":"${SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS}","id":"nest-orders-1","name":"nest-orders","metadata":{"zone":"a"}}`,
    );
    expect(text).toContain(
      '"uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false},' +
        '{"value":"address","variable":true},{"value":":","variable":false},{"value":"port","variable":true}]}',
    );
    expect(parseInstance(bytes)).toEqual(parseInstance(Buffer.from(text)));
    // Curator's non-compatible mode adds "enabled"; it is read, and unknown fields are ignored.
    const withEnabled = parseInstance(
      Buffer.from(text.replace('"serviceType"', '"enabled":false,"extra":1,"serviceType"')),
    );
    expect(withEnabled.enabled).toBe(false);
    expect(() => parseInstance(Buffer.from('{"id":"x"}'))).toThrow(/'name' must be a string/);
  });
});
