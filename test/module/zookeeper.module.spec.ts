import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import {
  ConnectionState,
  CreateMode,
  getStorageToken,
  getZookeeperToken,
  InjectStorage,
  InjectZookeeper,
  ZookeeperConnection,
  ZookeeperModule,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { ZookeeperHealthIndicator } from 'nestjs-zookeeper/health';
import { silentLogger, testConnectString, useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const observer = useTestConnections('module');
const { namespace } = observer;

@Injectable()
class OrdersService {
  constructor(
    @InjectZookeeper() readonly main: ZookeeperConnection,
    @InjectZookeeper('audit') readonly audit: ZookeeperConnection,
    @InjectStorage() readonly storage: ZookeeperStorage,
    @InjectStorage('audit') readonly auditStorage: ZookeeperStorage,
  ) {}
}

@Module({
  imports: [
    ConfigModule.forRoot({
      ignoreEnvFile: true,
      load: [
        () => ({
          ZK_CONNECT: testConnectString(),
          ZK_SESSION_TIMEOUT_MS: '5000',
          ZK_NAMESPACE: namespace,
        }),
      ],
    }),
    ZookeeperModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        connectString: config.getOrThrow<string>('ZK_CONNECT'),
        sessionTimeoutMs: Number(config.get('ZK_SESSION_TIMEOUT_MS')),
        namespace: config.get<string>('ZK_NAMESPACE'),
        logger: silentLogger,
        storage: { root: '/kv' },
      }),
    }),
    ZookeeperModule.forRoot({
      name: 'audit',
      connectString: testConnectString(),
      namespace: `${namespace}/audit`,
      logger: silentLogger,
    }),
    TerminusModule,
  ],
  providers: [OrdersService, ZookeeperHealthIndicator, HealthIndicatorService],
})
class AppModule {}

describe('ZookeeperModule', () => {
  it('connects through forRootAsync with ConfigService, serves two named connections, and closes both sessions on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();

    const orders = app.get(OrdersService);
    expect(orders.main).toBeInstanceOf(ZookeeperConnection);
    expect(orders.audit).toBeInstanceOf(ZookeeperConnection);
    expect(orders.main).not.toBe(orders.audit);
    expect(app.get(getZookeeperToken())).toBe(orders.main);
    expect(app.get(getZookeeperToken('audit'))).toBe(orders.audit);
    expect(orders.main.state).toBe(ConnectionState.CONNECTED);
    expect(orders.main.session.timeoutMs).toBe(5000);
    expect(orders.audit.name).toBe('audit');

    expect(orders.storage).toBeInstanceOf(ZookeeperStorage);
    expect(orders.storage.connection).toBe(orders.main);
    expect(orders.auditStorage.connection).toBe(orders.audit);
    expect(app.get(getStorageToken('audit'))).toBe(orders.auditStorage);
    await orders.storage.set('settings', { mode: 'fast' });
    expect((await observer.zk.get('/kv/settings')).data.toString()).toBe('{"mode":"fast"}');

    await orders.main.create('/instance', 'main', { mode: CreateMode.EPHEMERAL });
    await orders.audit.create('/instance', 'audit', { mode: CreateMode.EPHEMERAL });
    expect((await observer.zk.get('/instance')).data.toString()).toBe('main');
    expect((await observer.zk.get('/audit/instance')).data.toString()).toBe('audit');

    const health = app.get(ZookeeperHealthIndicator);
    const up = await health.isHealthy('zookeeper');
    expect(up.zookeeper.status).toBe('up');
    expect(up.zookeeper).toMatchObject({ state: ConnectionState.CONNECTED });
    expect(typeof (up.zookeeper as { roundTripMs?: unknown }).roundTripMs).toBe('number');
    expect((await health.isHealthy('audit', { connection: 'audit' })).audit.status).toBe('up');

    await app.close();

    // Closed sessions drop their ephemerals at once, long before the 5 s session timeout: gone
    // when close() resolved (wire), or just after (native: its close does not wait for the answer).
    expect(orders.main.state).toBe(ConnectionState.CLOSED);
    expect(orders.audit.state).toBe(ConnectionState.CLOSED);
    const gone = async () =>
      !(await observer.zk.exists('/instance')) && !(await observer.zk.exists('/audit/instance'));
    if (orders.main.driver === 'wire') expect(await gone()).toBe(true);
    else await until(gone, { message: 'the closed sessions ephemerals to go', timeoutMs: 1500 });
    const down = await health.isHealthy('zookeeper', { connection: orders.main });
    expect(down.zookeeper.status).toBe('down');
  });

  it('fails the app start with a clear error when the ensemble is unreachable', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        ZookeeperModule.forRoot({
          connectString: '127.0.0.1:1',
          connectTimeoutMs: 1000,
          logger: silentLogger,
        }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(
      "could not connect to ZooKeeper at '127.0.0.1:1' within 1000 ms",
    );
  });
});
