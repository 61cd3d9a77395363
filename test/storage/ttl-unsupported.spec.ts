import { beforeAll, expect, it } from '@jest/globals';
import { UnimplementedError, ZookeeperConnection, ZookeeperStorage } from 'nestjs-zookeeper';
import { DedicatedServer } from '../support/dedicated-server.js';

// A server of its own, without extended types (so without TTL nodes).
const dedicated = new DedicatedServer({ extendedTypes: false });
let zk: ZookeeperConnection;

beforeAll(async () => {
  zk = await dedicated.connect();
});

it('a TTL key on a server without extended types fails with an error that says how to enable them', async () => {
  const storage = new ZookeeperStorage(zk);
  const error = await storage.set('cache', 1, { ttlMs: 1000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnimplementedError);
  expect((error as Error).message).toContain('zookeeper.extendedTypesEnabled=true');
  expect(await storage.has('cache')).toBe(false);
  await storage.set('cache', 1);
  expect(await storage.getValue('cache')).toBe(1);
});
