export type { DeadLetter } from './dead-letters.js';
export type {
  ConsumeOptions,
  MessageContext,
  MessageHandler,
  QueueConsumer,
  QueuePaths,
  WorkQueueEvent,
} from './queue-consumer.js';
export * from './work-queue.js';
