export * from './broadcast-log.js';
export type { BroadcastDelivery, SubscribeOptions } from './subscription-types.js';
export { DEFAULT_MAX_UNACKED } from './subscription-types.js';
export { BEFORE_FIRST_OFFSET, messageOffset } from './offsets.js';
export type {
  CompactResult,
  OffsetCorrupt,
  RetentionEvent,
  RetentionOptions,
  RetentionOverrun,
  TopicPaths,
} from './retention.js';
export { DEFAULT_RETENTION_MAX_ENTRIES } from './retention.js';
export { DEFAULT_SUBSCRIBER_EXPIRY_MS } from './subscriber-expiry.js';
export type { SubscriberExpired } from './subscriber-expiry.js';
export { appendLogBatch } from './log-batch-op.js';
export type { LogRelay, LogRelayEvent, RelaySource, TransactionFence } from './log-relay.js';
