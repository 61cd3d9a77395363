import { afterEach } from '@jest/globals';
import { INestApplicationContext, LoggerService, Module, Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ZookeeperConnection } from 'nestjs-zookeeper';
import { ZookeeperConfigFactory, ZookeeperConfigModule } from 'nestjs-zookeeper/config';

/** Writes each `path → data` (creating parents), replacing existing data. */
export async function writeNodes(
  zk: ZookeeperConnection,
  nodes: Record<string, string>,
): Promise<void> {
  for (const [path, data] of Object.entries(nodes)) {
    if (await zk.exists(path)) await zk.set(path, data);
    else {
      await zk.mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
      await zk.create(path, data);
    }
  }
}

/** A logger that keeps the warnings (refusals, fallbacks) for assertions. */
export function recordingLogger(): {
  warnings: string[];
  logger: LoggerService;
} {
  const warnings: string[] = [];
  return {
    warnings,
    logger: {
      log: () => undefined,
      warn: (message) => warnings.push(String(message)),
      error: (message) => warnings.push(String(message)),
      debug: () => undefined,
      verbose: () => undefined,
    },
  };
}

/** A module whose ConfigModule loads `first` and `others`, `first` bound for live updates. */
export function configAppModule(
  first: ZookeeperConfigFactory,
  ...others: Array<() => Record<string, unknown>>
): Type<unknown> {
  @Module({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [first, ...others] }),
      ZookeeperConfigModule.forRoot(first),
    ],
  })
  class ConfigAppModule {}
  return ConfigAppModule;
}

type AppContextOptions = NonNullable<Parameters<typeof NestFactory.createApplicationContext>[1]>;

/**
 * The Nest apps of a test file, each closed after its test: `open` starts one on
 * {@link configAppModule} (with `appOptions`, quiet), `opened` takes the apps a test starts itself.
 */
export function useConfigApps(appOptions: AppContextOptions = {}): {
  opened: INestApplicationContext[];
  open: (
    first: ZookeeperConfigFactory,
    ...others: Array<() => Record<string, unknown>>
  ) => Promise<INestApplicationContext>;
} {
  const opened: INestApplicationContext[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });
  return {
    opened,
    open: async (first, ...others) => {
      const app = await NestFactory.createApplicationContext(configAppModule(first, ...others), {
        logger: false,
        ...appOptions,
      });
      opened.push(app);
      return app;
    },
  };
}
