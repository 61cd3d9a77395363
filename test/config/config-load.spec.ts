import { beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import {
  ConfigValidationError,
  ZookeeperConfig,
  ZookeeperConfigModule,
  zookeeperConfig,
  ZookeeperConfigOptions,
} from 'nestjs-zookeeper/config';
import { getZookeeperToken, ZookeeperConnection, ZookeeperModule } from 'nestjs-zookeeper';
import { silentLogger, testConnectString, useTestConnections } from '../support/connect.js';
import { useConfigApps, writeNodes } from './config-support.js';

const connections = useTestConnections('config-load');
const { namespace } = connections;
const apps = useConfigApps({ abortOnError: false });
const { opened } = apps;

function options(extra: Partial<ZookeeperConfigOptions> = {}): ZookeeperConfigOptions {
  return {
    connectString: testConnectString(),
    connectionOptions: { namespace, logger: silentLogger },
    application: 'billing',
    logger: silentLogger,
    ...extra,
  };
}

/** A Nest app whose ConfigModule loads `factories` (the first one bound for live updates). */
const appWith = apps.open;

beforeAll(async () => {
  await writeNodes(connections.zk, {
    '/config/billing,prod/db/pool/size': '20',
    '/config/billing,eu/db/pool/size': '30',
    '/config/billing,eu/region': 'eu-west',
    '/config/billing/db/pool/size': '10',
    '/config/billing/db/host': 'billing-db',
    '/config/application,prod/db/pool/size': '5',
    '/config/application,prod/log/level': 'warn',
    '/config/application/db/pool/max': '99',
    '/config/application/log/level': 'info',
    '/config/application/db.user': 'app',
    '/config/other/db/host': 'not-ours',
  });
});

describe('layers', () => {
  it('reads the most specific layer of each key: app,profile > app > application,profile > application', async () => {
    const app = await appWith(zookeeperConfig(options({ profiles: ['prod'] })));
    const config = app.get(ConfigService);
    expect(config.get('db.pool.size')).toBe('20');
    expect(config.get('db.host')).toBe('billing-db');
    expect(config.get('db.pool.max')).toBe('99');
    expect(config.get('db.user')).toBe('app'); // a dotted znode name is a dotted key
    expect(config.get('log.level')).toBe('warn');
    expect(config.get('region')).toBeUndefined();
    const origins = app.get(ZookeeperConfig).origins();
    expect(origins.get('db.pool.size')).toBe('billing,prod');
    expect(origins.get('log.level')).toBe('application,prod');
    expect(origins.get('db.pool.max')).toBe('application');
  });

  it('without profiles reads the application and shared layers only; the last profile wins', async () => {
    const plain = zookeeperConfig(options());
    expect((await plain()).db).toEqual({
      pool: { size: '10', max: '99' },
      host: 'billing-db',
      user: 'app',
    });
    await plain.config.close();
    const both = zookeeperConfig(options({ profiles: ['prod', 'eu'] }));
    const values = await both();
    expect(values.db).toMatchObject({ pool: { size: '30' } });
    expect(values.region).toBe('eu-west');
    expect(both.config.layers.map((layer) => layer.name)).toEqual([
      'billing,eu',
      'billing,prod',
      'billing',
      'application,eu',
      'application,prod',
      'application',
    ]);
    await both.config.close();
  });

  it('reads JSON and YAML documents in layer znodes; key znodes of the same layer override them', async () => {
    await writeNodes(connections.zk, {
      '/docs/config/shop': JSON.stringify({
        db: { host: 'doc-host', pool: { size: 7 } },
        tags: ['a'],
      }),
      '/docs/config/shop/db/host': 'key-host',
      '/docs/config/application': 'log:\n  level: debug\nretries: 3\n',
    });
    const factory = zookeeperConfig(options({ root: '/docs/config', application: 'shop' }));
    const values = await factory();
    expect(values).toEqual({
      db: { host: 'key-host', pool: { size: 7 } },
      tags: ['a'],
      log: { level: 'debug' },
      retries: 3,
    });
    await factory.config.close();
  });

  it('keeps @nestjs/config precedence: load entries over environment variables, later entries over earlier ones per top-level key', async () => {
    await writeNodes(connections.zk, {
      '/config/envtest/PORT': '7000',
      '/config/envtest/feature/x': 'zk',
    });
    process.env.PORT = '1234';
    process.env.ONLY_ENV = 'env';
    try {
      const factory = zookeeperConfig(options({ application: 'envtest', sharedContext: false }));
      const later = () => ({ feature: { x: 'local' } });
      const app = await appWith(factory, later);
      const config = app.get(ConfigService);
      expect(config.get('PORT')).toBe('7000');
      expect(config.get('ONLY_ENV')).toBe('env');
      expect(config.get('feature.x')).toBe('local');
    } finally {
      delete process.env.PORT;
      delete process.env.ONLY_ENV;
    }
  });

  it("reuses the app's ZookeeperModule connection with forRootAsync", async () => {
    @Module({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true }),
        ZookeeperModule.forRoot({
          isGlobal: true,
          connectString: testConnectString(),
          namespace,
          logger: silentLogger,
        }),
        ZookeeperConfigModule.forRootAsync({
          inject: [getZookeeperToken()],
          useFactory: (connection: ZookeeperConnection) => ({
            connection,
            application: 'billing',
            profiles: ['prod'],
            types: { 'db.pool.size': 'integer' },
            logger: silentLogger,
          }),
        }),
      ],
    })
    class AsyncModule {}
    const app = await NestFactory.createApplicationContext(AsyncModule, {
      logger: false,
      abortOnError: false,
    });
    opened.push(app);
    expect(app.get(ConfigService).get('db.pool.size')).toBe(20);
    expect(app.get(ZookeeperConfig).get('db.host')).toBe('billing-db');
  });
});

describe('types and validation', () => {
  beforeAll(async () => {
    await writeNodes(connections.zk, {
      '/config/typed/db/pool/size': '20',
      '/config/typed/feature/enabled': 'TRUE',
      '/config/typed/limits': '{"daily":100,"burst":[1,2]}',
      '/config/typed/ratio': '0.25',
      '/config/broken/db/pool/size': 'twenty',
      '/config/broken/feature/enabled': 'yes',
      '/config/broken/limits': '{daily:',
      '/config/broken/ratio': '1.5',
    });
  });

  const types = {
    'db.pool.size': 'integer',
    'feature.enabled': 'boolean',
    limits: 'json',
    ratio: 'number',
  } as const;

  it('keeps strings by default and converts the keys typed by `types`', async () => {
    const factory = zookeeperConfig(options({ application: 'typed', sharedContext: false, types }));
    expect(await factory()).toEqual({
      db: { pool: { size: 20 } },
      feature: { enabled: true },
      limits: { daily: 100, burst: [1, 2] },
      ratio: 0.25,
    });
    await factory.config.close();
  });

  it('fails startup with every problem listed, naming key and layer', async () => {
    const factory = zookeeperConfig(
      options({ application: 'broken', sharedContext: false, types }),
    );
    const error = await appWith(factory).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ConfigValidationError);
    const { problems, message } = error as ConfigValidationError;
    expect(problems).toEqual([
      'db.pool.size (layer broken): "twenty" is not a number',
      'feature.enabled (layer broken): "yes" is not a boolean (true or false)',
      'limits (layer broken): "{daily:" is not JSON',
    ]);
    expect(message).toContain('3 problems');
  });

  it('runs the validate function @nestjs/config takes, and uses what it returns', async () => {
    const validate = (config: Record<string, any>) => {
      const problems: string[] = [];
      const size = Number(config.db?.pool?.size);
      if (!(size >= 1 && size <= 50))
        problems.push(`db.pool.size must be 1..50 (got ${config.db?.pool?.size})`);
      if (config.ratio > 1) problems.push(`ratio must be at most 1 (got ${config.ratio})`);
      if (problems.length > 0) throw new Error(problems.join('\n'));
      return { ...config, db: { pool: { size } }, checked: true };
    };
    const good = zookeeperConfig(
      options({ application: 'typed', sharedContext: false, validate, types: { ratio: 'number' } }),
    );
    expect(await good()).toMatchObject({ db: { pool: { size: 20 } }, checked: true });
    await good.config.close();
    const bad = zookeeperConfig(
      options({
        application: 'broken',
        sharedContext: false,
        validate,
        types: { ratio: 'number' },
      }),
    );
    const error = (await bad().catch((failure: unknown) => failure)) as ConfigValidationError;
    expect(error.problems).toEqual([
      'db.pool.size must be 1..50 (got twenty)',
      'ratio must be at most 1 (got 1.5)',
    ]);
  });

  it('checks a Standard Schema (validationSchema), naming the layer of each issue', async () => {
    const validationSchema = {
      '~standard': {
        validate: (value: unknown) => {
          const config = value as { feature?: { enabled?: string } };
          return config.feature?.enabled === 'yes'
            ? {
                issues: [
                  { message: 'must be true or false', path: ['feature', { key: 'enabled' }] },
                ],
              }
            : { value };
        },
      },
    };
    const factory = zookeeperConfig(
      options({ application: 'broken', sharedContext: false, validationSchema }),
    );
    const error = (await factory().catch((failure: unknown) => failure)) as ConfigValidationError;
    expect(error.problems).toEqual(['feature.enabled (layer broken): must be true or false']);
  });
});
