export * from './barrier/index.js';
export * from './leader-election/index.js';
export {
  LockStateError,
  orderContenders,
  SequentialLock,
  type AcquireOptions,
  type LockLoss,
  type LockStatus,
} from './lock-internals/index.js';
export * from './membership/index.js';
export * from './mutex/index.js';
export * from './persistent-node/index.js';
export * from './read-write-lock/index.js';
export * from './semaphore/index.js';
export * from './service-registry/index.js';
export * from './shared-counter/index.js';
export * from './zookeeper-recipes.js';
