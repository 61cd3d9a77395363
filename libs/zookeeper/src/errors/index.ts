export * from './zookeeper-error-code.enum.js';
export * from './zookeeper.error.js';
export * from './zookeeper-errors.js';
export * from './library-errors.js';
export * from './create-zookeeper-error.js';
export * from './driver-errors.js';
