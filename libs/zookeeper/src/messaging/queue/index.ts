export type { DeadLetter } from './dead-letters.js';
export type { QueueDelivery } from './queue-deliveries.js';
export type {
  ConsumerStats,
  ConsumeOptions,
  MessageContext,
  MessageHandler,
  QueueConsumer,
  QueuePaths,
  WorkQueueEvent,
} from './queue-consumer.js';
export * from './work-queue.js';
