import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { UnimplementedError, ZookeeperConnection, ZookeeperStorage } from 'nestjs-zookeeper';
import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { silentLogger } from '../support/connect.js';

let server: ZookeeperTestingServer;
let zk: ZookeeperConnection;

beforeAll(async () => {
  server = await ZookeeperTestingServer.start({ extendedTypes: false });
  zk = await ZookeeperConnection.connect({
    connectString: server.connectString,
    logger: silentLogger,
  });
});
afterAll(async () => {
  await zk.close();
  await server.close();
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
