import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ConnectionClosedError, ConnectionState } from 'nestjs-zookeeper';
import {
  ConfigUnavailableError,
  zookeeperConfig,
  ZookeeperConfigOptions,
} from 'nestjs-zookeeper/config';
import { expireSession, getFreePort } from 'nestjs-zookeeper/testing';
import { nextState, silentLogger } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';
import { configAppModule, recordingLogger, writeNodes } from './config-support.js';

const dedicated = new DedicatedServer();
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'zk-config-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function options(extra: Partial<ZookeeperConfigOptions> = {}): ZookeeperConfigOptions {
  return {
    connectString: dedicated.server.connectString,
    connectionOptions: { logger: silentLogger, sessionTimeoutMs: 4000 },
    application: 'faults',
    logger: silentLogger,
    ...extra,
  };
}

describe('faults', () => {
  it('keeps the last configuration while the server is down, and follows changes once it is back', async () => {
    const writer = await dedicated.connect();
    await writeNodes(writer, { '/config/faults/rate': '1' });
    const factory = zookeeperConfig(options());
    await factory();
    const down = factory.config.changes$;
    await dedicated.server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(factory.config.get('rate')).toBe('1');
    await dedicated.server.start();
    await writer.whenConnected();
    const event = firstValueFrom(down);
    await writer.set('/config/faults/rate', '2');
    expect(await event).toMatchObject({ key: 'rate', oldValue: '1', newValue: '2' });
    expect(factory.config.get('rate')).toBe('2');
    await factory.config.close();
  });

  it('after a session expiry reads the tree again and announces every difference', async () => {
    const writer = await dedicated.connect();
    await writeNodes(writer, {
      '/config/expiry/a': '1',
      '/config/expiry/b': '1',
      '/config/expiry/c': '1',
    });
    const connection = await dedicated.connect({ sessionTimeoutMs: 4000 });
    const factory = zookeeperConfig({ connection, application: 'expiry', logger: silentLogger });
    await factory();
    const events = firstValueFrom(factory.config.changes$.pipe(take(3), toArray()));
    const reconnected = nextState(connection, ConnectionState.CONNECTED);
    await expireSession(connection);
    // Changed while the config's session was gone: no watch saw these.
    await writer.set('/config/expiry/a', '2');
    await writer.delete('/config/expiry/b');
    await writer.create('/config/expiry/d', 'new');
    await reconnected;
    const seen = await events;
    expect(
      seen
        .map((event) =>
          event.type === 'changed' ? [event.key, event.oldValue, event.newValue] : [],
        )
        .sort(),
    ).toEqual([
      ['a', '1', '2'],
      ['b', '1', undefined],
      ['d', undefined, 'new'],
    ]);
    expect(factory.config.values()).toEqual({ a: '2', c: '1', d: 'new' });
    await factory.config.close();
  });
});

describe('startup', () => {
  it('fails clearly after startupTimeoutMs when ZooKeeper is unreachable and there is no snapshot', async () => {
    const port = await getFreePort();
    const factory = zookeeperConfig(
      options({ connectString: `127.0.0.1:${port}`, startupTimeoutMs: 1500 }),
    );
    const started = Date.now();
    const error = await NestFactory.createApplicationContext(configAppModule(factory), {
      logger: false,
      abortOnError: false,
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ConfigUnavailableError);
    expect((error as Error).message).toContain(
      `'127.0.0.1:${port}' within 1500 ms (no snapshotFile configured)`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('close() during load(): load fails with ConfigUnavailableError caused by ConnectionClosedError', async () => {
    const factory = zookeeperConfig(options({ application: 'closed-early' }));
    const loading = factory.config.load();
    await factory.config.close();
    const error = await loading.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ConfigUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toContain(
      '(no snapshotFile configured): ZookeeperConfig.load: the connection is closed ' +
        '(application shutdown or close() was called)',
    );
  });

  it('starts from the snapshot written at the last successful read, then catches up once ZooKeeper answers', async () => {
    const snapshotFile = join(directory, 'snapshot', 'billing.json');
    const writer = await dedicated.connect();
    await writeNodes(writer, {
      '/config/snap,prod/jobs/concurrency': '4',
      '/config/snap/rate': '10',
      '/config/application/shared': 'yes',
    });
    const first = zookeeperConfig(
      options({
        application: 'snap',
        profiles: ['prod'],
        snapshotFile,
        types: { 'jobs.concurrency': 'integer' },
      }),
    );
    await first();
    await first.config.close();
    const written = JSON.parse(await readFile(snapshotFile, 'utf8'));
    expect(written.values['jobs.concurrency']).toEqual({ value: '4', layer: 'snap,prod' });

    await writer.set('/config/snap/rate', '20');
    await dedicated.server.stop();
    const { logger, warnings } = recordingLogger();
    const second = zookeeperConfig(
      options({
        application: 'snap',
        profiles: ['prod'],
        snapshotFile,
        startupTimeoutMs: 1000,
        types: { 'jobs.concurrency': 'integer' },
        logger,
        connectionOptions: { logger: silentLogger, sessionTimeoutMs: 4000 },
      }),
    );
    expect(await second()).toEqual({ jobs: { concurrency: 4 }, rate: '10', shared: 'yes' });
    expect(second.config.source).toBe('snapshot');
    expect(warnings.join('\n')).toContain('starting "snap" from the snapshot of');

    const caughtUp = firstValueFrom(second.config.changes$);
    await dedicated.server.start();
    expect(await caughtUp).toMatchObject({
      key: 'rate',
      oldValue: '10',
      newValue: '20',
      layer: 'snap',
    });
    expect(second.config.source).toBe('zookeeper');
    await second.config.close();
  });

  it('fails when the snapshot is of another application or profile set', async () => {
    const snapshotFile = join(directory, 'snapshot', 'billing.json');
    const port = await getFreePort();
    const factory = zookeeperConfig(
      options({
        connectString: `127.0.0.1:${port}`,
        application: 'snap',
        profiles: ['dev'],
        snapshotFile,
        startupTimeoutMs: 500,
      }),
    );
    await expect(factory()).rejects.toThrow(`no usable snapshot at ${snapshotFile}`);
  });
});
