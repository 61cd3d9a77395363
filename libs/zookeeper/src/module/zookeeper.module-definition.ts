import { ConfigurableModuleBuilder, Provider } from '@nestjs/common';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ZookeeperMessaging } from '../messaging/zookeeper-messaging.js';
import { ZookeeperRecipes } from '../recipes/zookeeper-recipes.js';
import { ZookeeperStorage } from '../storage/zookeeper-storage.js';
import {
  DEFAULT_CONNECTION_NAME,
  ZOOKEEPER_CONNECTION_NAME,
  ZOOKEEPER_MODULE_OPTIONS,
} from './zookeeper.constants.js';
import {
  ZookeeperModuleExtras,
  ZookeeperModuleOptions,
} from './zookeeper-module-options.interface.js';
import {
  getMessagingToken,
  getRecipesToken,
  getStorageToken,
  getZookeeperToken,
} from './zookeeper.tokens.js';

export const {
  ConfigurableModuleClass: ZookeeperConfigurableModule,
  OPTIONS_TYPE: ZOOKEEPER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ZOOKEEPER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ZookeeperModuleOptions>({
  moduleName: 'Zookeeper',
  optionsInjectionToken: ZOOKEEPER_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createZookeeperOptions')
  .setExtras<ZookeeperModuleExtras>(
    { isGlobal: false, name: DEFAULT_CONNECTION_NAME },
    (definition, extras) => {
      const name = extras.name ?? DEFAULT_CONNECTION_NAME;
      const connectionProvider: Provider = {
        provide: getZookeeperToken(name),
        // The app does not start against an unreachable ensemble: connect() fails at its deadline.
        useFactory: (options: ZookeeperModuleOptions) =>
          ZookeeperConnection.connect({ ...options, name }),
        inject: [ZOOKEEPER_MODULE_OPTIONS],
      };
      const storageProvider: Provider = {
        provide: getStorageToken(name),
        useFactory: (connection: ZookeeperConnection, options: ZookeeperModuleOptions) =>
          new ZookeeperStorage(connection, options.storage),
        inject: [getZookeeperToken(name), ZOOKEEPER_MODULE_OPTIONS],
      };
      const recipesProvider: Provider = {
        provide: getRecipesToken(name),
        useFactory: (connection: ZookeeperConnection) => new ZookeeperRecipes(connection),
        inject: [getZookeeperToken(name)],
      };
      const messagingProvider: Provider = {
        provide: getMessagingToken(name),
        useFactory: (connection: ZookeeperConnection) => new ZookeeperMessaging(connection),
        inject: [getZookeeperToken(name)],
      };
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [
          ...(definition.providers ?? []),
          connectionProvider,
          storageProvider,
          recipesProvider,
          messagingProvider,
          { provide: ZOOKEEPER_CONNECTION_NAME, useValue: name },
        ],
        exports: [
          ...(definition.exports ?? []),
          connectionProvider.provide,
          storageProvider.provide,
          recipesProvider.provide,
          messagingProvider.provide,
        ],
      };
    },
  )
  .build();
