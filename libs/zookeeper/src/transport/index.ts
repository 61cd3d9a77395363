export * from './client-zookeeper.js';
export * from './server-zookeeper.js';
export * from './transport-errors.js';
export type { EventPacket, RequestPacket } from './transport-packets.js';
export * from './zookeeper.context.js';
export * from './zookeeper.events.js';
export * from './zookeeper-transport-options.interface.js';
