export {
  READ_NODE_MARKER,
  ReadWriteLock,
  WRITE_NODE_MARKER,
  type ReadWriteLockOptions,
} from './read-write-lock.js';
