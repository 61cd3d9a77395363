import { ZookeeperConfig } from './zookeeper-config.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

/**
 * A `load` entry of `ConfigModule.forRoot`: calling it reads the layers and resolves with the
 * merged configuration. `config` is the live source behind it (give the factory to
 * `ZookeeperConfigModule.forRoot` to keep ConfigService current and inject it).
 */
export interface ZookeeperConfigFactory {
  (): Promise<Record<string, unknown>>;
  readonly config: ZookeeperConfig;
}

/**
 * Layered configuration from ZooKeeper for @nestjs/config:
 *
 * ```ts
 * const billing = zookeeperConfig({ connectString: 'zk:2181', application: 'billing', profiles: ['prod'] });
 * imports: [ConfigModule.forRoot({ load: [billing] }), ZookeeperConfigModule.forRoot(billing)]
 * ```
 */
export function zookeeperConfig(options: ZookeeperConfigOptions): ZookeeperConfigFactory {
  const config = new ZookeeperConfig(options);
  const factory = () => config.load();
  Object.defineProperty(factory, 'config', { value: config, enumerable: false });
  return factory as ZookeeperConfigFactory;
}
