export * from './broadcast/index.js';
export * from './queue/index.js';
export * from './shared/messaging-errors.js';
export { DEFAULT_MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from './shared/message-batch.js';
export type { BatcherOptions } from './shared/batcher.js';
export { DEFAULT_MAX_PENDING_BYTES } from './shared/batcher.js';
export * from './zookeeper-messaging.js';
export {
  DEFAULT_ROLLOVER_AT,
  MAX_ROLLOVER_AT,
  SegmentedFolder,
} from './shared/segmented-folder.js';
export type { SegmentEvent, SegmentListing, SegmentOptions } from './shared/segmented-folder.js';
