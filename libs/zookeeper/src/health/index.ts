export * from './zookeeper.health.js';
