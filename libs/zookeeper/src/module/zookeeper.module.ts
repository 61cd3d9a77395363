import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ZOOKEEPER_CONNECTION_NAME } from './zookeeper.constants.js';
import { ZookeeperConfigurableModule } from './zookeeper.module-definition.js';
import { getZookeeperToken } from './zookeeper.tokens.js';

/**
 * One ZooKeeper connection per module instance:
 * `ZookeeperModule.forRoot({ connectString })` or `forRootAsync({ imports, inject, useFactory })`,
 * with `name` for several connections and `isGlobal` to share it app-wide.
 */
@Module({})
export class ZookeeperModule extends ZookeeperConfigurableModule implements OnApplicationShutdown {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(ZOOKEEPER_CONNECTION_NAME) private readonly connectionName: string,
  ) {
    super();
  }

  /**
   * Closes the session when the app shuts down, so its ephemeral nodes disappear at once instead
   * of after the session timeout. Runs after onModuleDestroy, where recipes release their nodes.
   */
  async onApplicationShutdown(): Promise<void> {
    const connection = this.moduleRef.get<ZookeeperConnection>(
      getZookeeperToken(this.connectionName),
    );
    await connection.close();
  }
}
