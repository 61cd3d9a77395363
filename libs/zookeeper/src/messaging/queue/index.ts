export type { DeadLetter } from './dead-letters.js';
export { CorruptProgressError } from './item-progress.js';
export type { QueueDelivery } from './queue-deliveries.js';
export type { QueueConsumer } from './queue-consumer.js';
export type {
  ConsumerStats,
  ConsumeOptions,
  MessageContext,
  MessageHandler,
  QueuePaths,
  WorkQueueEvent,
} from './queue-types.js';
export * from './work-queue.js';
