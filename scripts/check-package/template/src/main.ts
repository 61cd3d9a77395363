import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { Controller, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import {
  DriverUnavailableError,
  ZookeeperConnection,
  ZookeeperModule,
  getZookeeperToken,
} from 'nestjs-zookeeper';
import { zookeeperConfig } from 'nestjs-zookeeper/config';
import { ZookeeperDashboardModule } from 'nestjs-zookeeper/dashboard';
import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { ClientZookeeper, ServerZookeeper } from 'nestjs-zookeeper/transport';

// The published typings are checked through these annotations: forRoot() must accept
// { connectString } and return a DynamicModule, getZookeeperToken must be (name?) => string,
// and the testing server must expose start()/connectString/close(). app.get() returns `any`,
// so the connection itself is only checked at run time, against this shape.
const tokenFactory: (name?: string) => string = getZookeeperToken;

interface ConnectionUnderTest {
  create(path: string, data?: Buffer | string): Promise<string>;
  get(path: string): Promise<{ data: Buffer }>;
}

async function main(): Promise<void> {
  const server: ZookeeperTestingServer = await ZookeeperTestingServer.start();
  const connectString: string = server.connectString;
  console.log(`ZooKeeper testing server at ${connectString}`);
  try {
    const zookeeper: DynamicModule = ZookeeperModule.forRoot({ connectString });

    @Module({ imports: [zookeeper] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: ['error', 'warn'],
    });
    try {
      const token: string = tokenFactory();
      const connection: ConnectionUnderTest = app.get(token);
      const created = await connection.create('/pack-check', Buffer.from('ok'));
      assert.equal(created, '/pack-check', 'create() should resolve to the created path');
      const { data } = await connection.get('/pack-check');
      assert.ok(Buffer.isBuffer(data), 'get() should resolve to { data: Buffer }');
      assert.equal(data.toString('utf8'), 'ok', 'get() should return the data that was written');
    } finally {
      await app.close();
    }
    await checkTransport(connectString);
    await checkDashboard(connectString);
    await checkConfig(connectString);
    await checkNativeDriverIsOptional(connectString);
  } finally {
    await server.close();
  }
  console.log('package check: ok');
  // Everything was closed: the process must now exit on its own. If it doesn't, something
  // (connection, timer, child process) leaked past app.close()/server.close().
  setTimeout(() => {
    console.error('package check: process still alive 15s after app.close() and server.close()');
    process.exit(3);
  }, 15_000).unref();
}

/** The transport subpath: a microservice answers a request sent through the client. */
async function checkTransport(connectString: string): Promise<void> {
  @Controller()
  class EchoController {
    @MessagePattern('echo')
    echo(@Payload() text: string): string {
      return text.toUpperCase();
    }
  }

  @Module({ controllers: [EchoController] })
  class EchoModule {}

  const service = await NestFactory.createMicroservice(EchoModule, {
    strategy: new ServerZookeeper({ connectionOptions: { connectString } }),
    logger: ['error', 'warn'],
  });
  await service.listen();
  const client = new ClientZookeeper({ connectionOptions: { connectString } });
  try {
    const reply: string = await firstValueFrom(client.send<string>('echo', 'ok'));
    assert.equal(reply, 'OK', 'a request over the transport should be answered');
  } finally {
    await client.close();
    await service.close();
  }
}

/** The dashboard subpath: its page, vendored uPlot and JSON API are served from the package. */
async function checkDashboard(connectString: string): Promise<void> {
  @Module({
    imports: [
      ZookeeperModule.forRoot({ connectString }),
      ZookeeperDashboardModule.forRoot({ path: '/zk', enabled: true, queues: ['/pack-queue'] }),
    ],
  })
  class DashboardApp {}

  const app = await NestFactory.create(DashboardApp, { logger: ['error', 'warn'] });
  try {
    await app.listen(0, '127.0.0.1');
    const base = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/zk`;
    const page = await fetch(base);
    assert.equal(page.status, 200, 'the dashboard page should be served');
    assert.match(await page.text(), /assets\/app\.js/, 'the page should load its script');
    for (const file of ['app.js', 'app.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      const asset = await fetch(`${base}/assets/${file}`);
      assert.equal(asset.status, 200, `the dashboard's ${file} should be in the package`);
    }
    const snapshot = (await (await fetch(`${base}/api/snapshot`)).json()) as {
      snapshot: { connection: { state: string }; queues: { path: string }[] };
    };
    assert.equal(snapshot.snapshot.connection.state, 'CONNECTED');
    assert.equal(snapshot.snapshot.queues[0]?.path, '/pack-queue');
  } finally {
    await app.close();
  }
}

/** The config subpath: a layered key is loaded (a JSON document needs no js-yaml). */
async function checkConfig(connectString: string): Promise<void> {
  const writer = await ZookeeperConnection.connect({ connectString });
  try {
    await writer.mkdirp('/config/pack/db/pool');
    await writer.create('/config/pack/db/pool/size', '20');
    await writer.create('/config/application', JSON.stringify({ db: { host: 'h' } }));
    const factory = zookeeperConfig({ connectString, application: 'pack', live: false });
    const values = await factory();
    assert.deepEqual(values, { db: { pool: { size: '20' }, host: 'h' } });
    await factory.config.close();
  } finally {
    await writer.close();
  }
}

/** Installed without optional dependencies: 'native' is refused with a typed, helpful error. */
async function checkNativeDriverIsOptional(connectString: string): Promise<void> {
  await assert.rejects(
    ZookeeperConnection.connect({ connectString, driver: 'native' }),
    (error: unknown) =>
      error instanceof DriverUnavailableError && /npm install zookeeper/.test(error.message),
    "driver 'native' without the zookeeper package should fail with DriverUnavailableError",
  );
}

main().catch((err: unknown) => {
  console.error('package check: FAILED at runtime');
  console.error(err);
  process.exit(1);
});
