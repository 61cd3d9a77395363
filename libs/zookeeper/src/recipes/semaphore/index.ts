export {
  type SemaphoreAcquireOptions,
  type Lease,
  Semaphore,
  type SemaphoreOptions,
} from './semaphore.js';
