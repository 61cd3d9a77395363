export * from './codec/serializers.js';
export * from './connection/index.js';
export * from './errors/index.js';
export * from './messaging/index.js';
export * from './module/index.js';
export * from './recipes/index.js';
export * from './storage/index.js';
export * from './watch/index.js';
