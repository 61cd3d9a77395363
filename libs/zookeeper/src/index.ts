export * from './connection/index.js';
export * from './errors/index.js';
