export * from './decorators/inject-messaging.decorator.js';
export * from './decorators/inject-recipes.decorator.js';
export * from './decorators/inject-storage.decorator.js';
export * from './decorators/inject-zookeeper.decorator.js';
export * from './zookeeper-module-options.interface.js';
export * from './zookeeper.constants.js';
export * from './zookeeper.module.js';
export * from './zookeeper.tokens.js';
export {
  ZOOKEEPER_ASYNC_OPTIONS_TYPE,
  ZOOKEEPER_OPTIONS_TYPE,
} from './zookeeper.module-definition.js';
