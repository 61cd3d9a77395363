export { Mutex, MUTEX_NODE_MARKER, type MutexOptions } from './mutex.js';
export {
  LockStateError,
  type AcquireOptions,
  type LockLoss,
  type LockStatus,
} from '../lock-internals/sequential-lock.js';
