import { afterAll, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import {
  AuthFailedError,
  ConnectionState,
  digestAcl,
  NoAuthError,
  ZookeeperConnection,
  ZookeeperModule,
} from 'nestjs-zookeeper';
import {
  silentLogger,
  TestConnections,
  testConnectString,
  testNamespace,
} from '../support/connect.js';

const namespace = testNamespace('auth');
const connections = new TestConnections(namespace);
afterAll(() => connections.closeAll());

const rejectedScheme = [{ scheme: 'no-such-scheme', credentials: 'x' }];

it('connect() fails with AuthFailedError when the server rejects an auth entry', async () => {
  const connection = new ZookeeperConnection({
    connectString: testConnectString(),
    auth: rejectedScheme,
    connectTimeoutMs: 10_000,
    logger: silentLogger,
  });
  await expect(connection.connect()).rejects.toBeInstanceOf(AuthFailedError);
  expect(connection.state).toBe(ConnectionState.AUTH_FAILED);
  await connection.close();
});

it('the module does not boot with a rejected auth entry', async () => {
  const compiled = Test.createTestingModule({
    imports: [
      ZookeeperModule.forRoot({
        connectString: testConnectString(),
        namespace,
        auth: rejectedScheme,
        logger: silentLogger,
      }),
    ],
  }).compile();
  await expect(compiled).rejects.toBeInstanceOf(AuthFailedError);
});

it('a wrong digest password connects, and is found by reading a protected node', async () => {
  const owner = await connections.open({ auth: [{ scheme: 'digest', credentials: 'app:right' }] });
  await owner.create('/protected', 'secret', { acl: [digestAcl('app', 'right')] });
  const intruder = await connections.open({
    auth: [{ scheme: 'digest', credentials: 'app:wrong' }],
  });
  expect(intruder.state).toBe(ConnectionState.CONNECTED);
  await expect(intruder.get('/protected')).rejects.toBeInstanceOf(NoAuthError);
  expect((await owner.get('/protected')).data.toString()).toBe('secret');
});
