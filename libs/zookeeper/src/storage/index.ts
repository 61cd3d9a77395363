export * from './storage-entry.js';
export * from './storage-errors.js';
export * from './storage-key.js';
export * from './storage-options.interface.js';
export * from './zookeeper-storage.js';
export * from './storage-tree.js';
