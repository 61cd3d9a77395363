import { DEFAULT_CONNECTION_NAME } from './zookeeper.constants.js';

/**
 * The injection token of the ZookeeperConnection named `name` (the default connection when
 * omitted), for `moduleRef.get(...)` or custom providers' `inject`.
 */
export function getZookeeperToken(name: string = DEFAULT_CONNECTION_NAME): string {
  return name === DEFAULT_CONNECTION_NAME ? 'ZookeeperConnection' : `ZookeeperConnection:${name}`;
}

/** The injection token of the ZookeeperStorage of the connection named `name`. */
export function getStorageToken(name: string = DEFAULT_CONNECTION_NAME): string {
  return name === DEFAULT_CONNECTION_NAME ? 'ZookeeperStorage' : `ZookeeperStorage:${name}`;
}

/** The injection token of the ZookeeperRecipes of the connection named `name`. */
export function getRecipesToken(name: string = DEFAULT_CONNECTION_NAME): string {
  return name === DEFAULT_CONNECTION_NAME ? 'ZookeeperRecipes' : `ZookeeperRecipes:${name}`;
}

/** The injection token of the ZookeeperMessaging of the connection named `name`. */
export function getMessagingToken(name: string = DEFAULT_CONNECTION_NAME): string {
  return name === DEFAULT_CONNECTION_NAME ? 'ZookeeperMessaging' : `ZookeeperMessaging:${name}`;
}
