export {
  ConfigDocumentError,
  ConfigUnavailableError,
  ConfigValidationError,
} from './config-errors.js';
export type { ConfigLayer } from './config-tree.js';
export {
  exportConfigLayer,
  importConfigLayer,
  type ImportConfigOptions,
} from './config-transfer.js';
export {
  type ConfigSource,
  ZookeeperConfig,
  type ZookeeperConfigEvent,
} from './zookeeper-config.js';
export { type ZookeeperConfigFactory, zookeeperConfig } from './zookeeper-config.loader.js';
export {
  CONFIGURATION_TOKEN,
  type ZookeeperConfigAsyncOptions,
  ZookeeperConfigModule,
} from './zookeeper-config.module.js';
export type {
  ConfigValueType,
  StandardSchemaLike,
  ZookeeperConfigOptions,
} from './zookeeper-config-options.interface.js';
