import { ZookeeperOptions } from '../connection/zookeeper-options.interface.js';

/** Options of `ZookeeperModule.forRoot`/`forRootAsync`: the connection options (the name is an extra). */
export type ZookeeperModuleOptions = Omit<ZookeeperOptions, 'name'>;

/** Options known when the module is declared, not produced by the async factory. */
export interface ZookeeperModuleExtras {
  /** Make the connection injectable everywhere without importing the module again. */
  isGlobal?: boolean;
  /** Name of the connection, for apps with more than one ensemble or namespace. */
  name?: string;
}
