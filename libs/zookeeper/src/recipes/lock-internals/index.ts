export { orderContenders, type QueuedNode } from '../../sequential/sequence-order.js';
export {
  predecessorRule,
  SequentialQueue,
  type BlockerRule,
  type JoinedNode,
  type Turn,
} from '../../sequential/sequential-queue.js';
export { NodeOwnership, type OwnershipEvent, type OwnershipLossReason } from './node-ownership.js';
export {
  LockStateError,
  SequentialLock,
  type AcquireOptions,
  type LockLoss,
  type LockStatus,
} from './sequential-lock.js';
