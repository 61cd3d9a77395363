import {
  DynamicModule,
  Inject,
  InjectionToken,
  Module,
  ModuleMetadata,
  OnApplicationShutdown,
  OptionalFactoryDependency,
} from '@nestjs/common';
import { ZookeeperConfig } from './zookeeper-config.js';
import { ZookeeperConfigFactory } from './zookeeper-config.loader.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

/**
 * The token under which @nestjs/config's ConfigHostModule (global) provides the merged
 * configuration that ConfigService reads.
 */
export const CONFIGURATION_TOKEN = 'CONFIGURATION_TOKEN';

const CONFIG_HOST: OptionalFactoryDependency = { token: CONFIGURATION_TOKEN, optional: true };

export interface ZookeeperConfigAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers for `useFactory`, e.g. `getZookeeperToken()` to reuse ZookeeperModule's connection. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any provider's type
  useFactory: (...args: any[]) => ZookeeperConfigOptions | Promise<ZookeeperConfigOptions>;
}

/**
 * Makes a ZooKeeper configuration injectable (`ZookeeperConfig`, for `changes$`), keeps
 * ConfigService current as it changes, and closes it on application shutdown. Global.
 */
@Module({})
export class ZookeeperConfigModule implements OnApplicationShutdown {
  constructor(@Inject(ZookeeperConfig) private readonly config: ZookeeperConfig) {}

  /** With `ConfigModule.forRoot({ load: [factory] })`: binds that factory's live configuration. */
  static forRoot(factory: ZookeeperConfigFactory): DynamicModule {
    return {
      module: ZookeeperConfigModule,
      global: true,
      providers: [
        {
          provide: ZookeeperConfig,
          useFactory: (host?: Record<string, unknown>) => {
            if (host) factory.config.bindHost(host);
            return factory.config;
          },
          inject: [CONFIG_HOST],
        },
      ],
      exports: [ZookeeperConfig],
    };
  }

  /**
   * Reads the configuration with options known at runtime (e.g. ZookeeperModule's connection) and
   * merges it into ConfigService as a last `load` entry would. Providers that read it at
   * construction should inject `ZookeeperConfig` (or its values), so they are built after the read.
   */
  static forRootAsync(options: ZookeeperConfigAsyncOptions): DynamicModule {
    return {
      module: ZookeeperConfigModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: ZookeeperConfig,
          useFactory: async (host: Record<string, unknown> | undefined, ...args: unknown[]) => {
            const config = new ZookeeperConfig(await options.useFactory(...args));
            const values = await config.load();
            if (host) {
              Object.assign(host, values);
              config.bindHost(host);
            }
            return config;
          },
          inject: [CONFIG_HOST, ...(options.inject ?? [])],
        },
      ],
      exports: [ZookeeperConfig],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.config.close();
  }
}
