export const DEFAULT_CONNECTION_NAME = 'default';

/** Provider holding the connection name of one ZookeeperModule instance (for its shutdown hook). */
export const ZOOKEEPER_CONNECTION_NAME = Symbol('ZOOKEEPER_CONNECTION_NAME');

/** Options of one ZookeeperModule instance (private to that instance). */
export const ZOOKEEPER_MODULE_OPTIONS = Symbol('ZOOKEEPER_MODULE_OPTIONS');
