import { ZookeeperOptions } from '../connection/zookeeper-options.interface.js';
import { ZookeeperStorageOptions } from '../storage/storage-options.interface.js';

/** Options of `ZookeeperModule.forRoot`/`forRootAsync`: the connection options (the name is an extra). */
export interface ZookeeperModuleOptions extends Omit<ZookeeperOptions, 'name'> {
  /** Options of the connection's injectable ZookeeperStorage (`@InjectStorage(name?)`). */
  storage?: ZookeeperStorageOptions;
}

/** Options known when the module is declared, not produced by the async factory. */
export interface ZookeeperModuleExtras {
  /** Make the connection injectable everywhere without importing the module again. */
  isGlobal?: boolean;
  /** Name of the connection, for apps with more than one ensemble or namespace. */
  name?: string;
}
