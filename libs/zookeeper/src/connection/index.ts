export * from './acls.js';
export * from './connection-state.enum.js';
export * from './create-mode.enum.js';
export * from './paths.js';
export * from './request-options.interface.js';
export * from './retry-policy.js';
export * from './zookeeper-connection.js';
export * from './zookeeper-options.interface.js';
export * from './zookeeper-types.js';
export * from './transaction.js';
export type {
  DriverCapabilities,
  DriverName,
  DriverTlsOptions,
} from '../driver/driver-session.interface.js';
