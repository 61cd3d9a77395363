import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigService } from '@nestjs/config';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import {
  ZookeeperConfig,
  ZookeeperConfigEvent,
  zookeeperConfig,
  ZookeeperConfigOptions,
} from 'nestjs-zookeeper/config';
import { silentLogger, testConnectString, useTestConnections } from '../support/connect.js';
import { LineProcess, spawnFixture } from '../support/line-process.js';
import { useConfigApps, writeNodes } from './config-support.js';

const connections = useTestConnections('config-live');
const { namespace } = connections;
const apps = useConfigApps();
const children: LineProcess[] = [];

afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
});

async function appFor(
  extra: Partial<ZookeeperConfigOptions>,
): Promise<{ config: ConfigService; zkConfig: ZookeeperConfig }> {
  const factory = zookeeperConfig({
    connectString: testConnectString(),
    connectionOptions: { namespace, logger: silentLogger },
    application: 'live',
    profiles: ['prod'],
    logger: silentLogger,
    ...extra,
  });
  const app = await apps.open(factory);
  return { config: app.get(ConfigService), zkConfig: app.get(ZookeeperConfig) };
}

function nextEvents(zkConfig: ZookeeperConfig, count: number): Promise<ZookeeperConfigEvent[]> {
  return firstValueFrom(zkConfig.changes$.pipe(take(count), toArray()));
}

describe('live updates', () => {
  it('applies a change to ConfigService within a watch round trip and announces key, old and new value, layer', async () => {
    const { zk } = connections;
    await writeNodes(zk, {
      '/config/live,prod/db/pool/size': '20',
      '/config/live/db/pool/size': '10',
      '/config/live/timeout': '5',
      '/config/application/db/pool/max': '99',
    });
    const { config, zkConfig } = await appFor({ types: { 'db.pool.size': 'integer' } });
    expect(config.get('db.pool.size')).toBe(20);

    let events = nextEvents(zkConfig, 1);
    const started = Date.now();
    await zk.set('/config/live,prod/db/pool/size', '25');
    expect(await events).toEqual([
      {
        type: 'changed',
        key: 'db.pool.size',
        oldValue: 20,
        newValue: 25,
        layer: 'live,prod',
        previousLayer: 'live,prod',
      },
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(config.get('db.pool.size')).toBe(25);

    // A top-level key (a leaf right under the layer), then a new key, then a removal.
    events = nextEvents(zkConfig, 1);
    await zk.set('/config/live/timeout', '6');
    expect(await events).toMatchObject([{ key: 'timeout', oldValue: '5', newValue: '6' }]);
    expect(config.get('timeout')).toBe('6');

    events = nextEvents(zkConfig, 1);
    await zk.create('/config/live,prod/feature', 'on');
    expect(await events).toMatchObject([{ key: 'feature', oldValue: undefined, newValue: 'on' }]);
    expect(config.get('feature')).toBe('on');

    // Removing the most specific value falls back to the next layer.
    events = nextEvents(zkConfig, 1);
    await zk.delete('/config/live,prod/db/pool/size');
    expect(await events).toEqual([
      {
        type: 'changed',
        key: 'db.pool.size',
        oldValue: 25,
        newValue: 10,
        layer: 'live',
        previousLayer: 'live,prod',
      },
    ]);
    expect(config.get('db.pool.size')).toBe(10);

    events = nextEvents(zkConfig, 1);
    await zk.delete('/config/live/timeout');
    expect(await events).toMatchObject([{ key: 'timeout', oldValue: '6', newValue: undefined }]);
    expect(config.get('timeout')).toBeUndefined();

    // A change shadowed by a more specific layer changes nothing and is not announced.
    const quiet = firstValueFrom(zkConfig.changes$.pipe(take(1), toArray()));
    await zk.set('/config/application/db/pool/max', '99');
    await zk.create('/config/application/db/pool/size', '1');
    await zk.set('/config/live/db/pool/size', '11');
    expect(await quiet).toMatchObject([{ key: 'db.pool.size', newValue: 11 }]);
  });

  it('refuses a change that fails validation with an event; the previous value stays', async () => {
    const { zk } = connections;
    await writeNodes(zk, { '/config/strict/jobs/concurrency': '4', '/config/strict/name': 'a' });
    const { config, zkConfig } = await appFor({
      application: 'strict',
      profiles: [],
      types: { 'jobs.concurrency': 'integer' },
      validate: (values) => {
        if (values.jobs.concurrency > 64) throw new Error('jobs.concurrency must be at most 64');
        return values;
      },
    });
    let events = nextEvents(zkConfig, 1);
    await zk.set('/config/strict/jobs/concurrency', 'many');
    expect(await events).toEqual([
      {
        type: 'rejected',
        key: 'jobs.concurrency',
        value: 'many',
        layer: 'strict',
        problems: ['jobs.concurrency (layer strict): "many" is not a number'],
      },
    ]);
    events = nextEvents(zkConfig, 1);
    await zk.set('/config/strict/jobs/concurrency', '100');
    expect(await events).toMatchObject([
      {
        type: 'rejected',
        key: 'jobs.concurrency',
        problems: ['jobs.concurrency must be at most 64'],
      },
    ]);
    expect(config.get('jobs.concurrency')).toBe(4);

    // Another valid change still goes through while the invalid one is pending.
    events = nextEvents(zkConfig, 1);
    await zk.set('/config/strict/name', 'b');
    expect(await events).toMatchObject([{ type: 'changed', key: 'name', newValue: 'b' }]);
    expect(config.get('jobs.concurrency')).toBe(4);

    events = nextEvents(zkConfig, 1);
    await zk.set('/config/strict/jobs/concurrency', '8');
    expect(await events).toMatchObject([
      { type: 'changed', key: 'jobs.concurrency', oldValue: 4, newValue: 8 },
    ]);
    expect(config.get('jobs.concurrency')).toBe(8);
  });

  it('follows a layer document: each changed key announced; a document that does not parse is refused', async () => {
    const { zk } = connections;
    await writeNodes(zk, { '/config/doc': JSON.stringify({ rate: 5, mode: 'a' }) });
    const { config, zkConfig } = await appFor({ application: 'doc', profiles: [] });
    let events = nextEvents(zkConfig, 2);
    await zk.set('/config/doc', 'rate: 6\nmode: b\n');
    expect(await events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'rate', oldValue: 5, newValue: 6 }),
        expect.objectContaining({ key: 'mode', oldValue: 'a', newValue: 'b' }),
      ]),
    );
    events = nextEvents(zkConfig, 1);
    await zk.set('/config/doc', '{ not json');
    const [refused] = await events;
    expect(refused).toMatchObject({ type: 'rejected', key: '/config/doc', layer: 'doc' });
    expect(config.get('rate')).toBe(6);
  });

  it('a change is seen by two app processes', async () => {
    const { zk } = connections;
    await writeNodes(zk, { '/config/worker,prod/jobs/concurrency': '2' });
    const apps = [0, 1].map((i) =>
      spawnFixture(`worker-${i}`, 'test/config/fixtures/config-app.ts', [
        testConnectString(),
        namespace,
      ]),
    );
    children.push(...apps);
    for (const app of apps) expect((await app.waitForWord('ready', 30_000)).words[1]).toBe('2');

    await zk.set('/config/worker,prod/jobs/concurrency', '6');
    for (const app of apps) {
      const line = await app.waitForWord('changed');
      expect(line.words).toEqual(['changed', 'jobs.concurrency', '2', '6', 'worker,prod', '6']);
    }
    await zk.set('/config/worker,prod/jobs/concurrency', '500');
    for (const app of apps)
      expect((await app.waitForWord('rejected')).words).toEqual([
        'rejected',
        'jobs.concurrency',
        '"500"',
      ]);
  });
});

it('settled() resolves once the pending changes are applied', async () => {
  const { zk } = connections;
  await writeNodes(zk, { '/config/settle/n': '0' });
  const { zkConfig } = await appFor({ application: 'settle', profiles: [] });
  const seen = firstValueFrom(zkConfig.changes$.pipe(filter((event) => event.key === 'n')));
  await zk.set('/config/settle/n', '1');
  await seen;
  await zkConfig.settled();
  expect(zkConfig.get('n')).toBe('1');
});
