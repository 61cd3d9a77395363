import { Stat } from '../connection/zookeeper-types.js';

/** A stored value with the version to use for compare-and-set. */
export interface StorageEntry<T> {
  key: string;
  value: T;
  version: number;
  stat: Stat;
}

/** What a write returns. */
export interface WriteResult {
  version: number;
  stat: Stat;
}
