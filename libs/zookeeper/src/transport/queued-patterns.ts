import { InvalidOptionsError } from '../errors/library-errors.js';
import { QueueConsumer } from '../messaging/queue/queue-consumer.js';
import { ConsumeOptions, MessageContext } from '../messaging/queue/queue-types.js';
import { WorkQueue } from '../messaging/queue/work-queue.js';
import { TransportStateError } from './transport-errors.js';

export type QueueHandler = (message: unknown, item: MessageContext) => Promise<void>;

/** A queued pattern's consumer and what it takes to start it again with another concurrency. */
interface QueuedPattern {
  queue: WorkQueue;
  options: ConsumeOptions;
  handler: QueueHandler;
  consumer: QueueConsumer<unknown>;
  concurrency: number;
  /** The resize under way (or the last one, settled): resizes of a pattern run in turn. */
  resizing: Promise<void>;
}

/**
 * The queue consumers of a server's queued patterns (events that are not broadcast, and
 * requests), by pattern: started once, resized one call at a time, stopped together.
 */
export class QueuedPatterns {
  private readonly patterns = new Map<string, QueuedPattern>();
  /** The consumers running now (a resize replaces one). */
  private readonly running = new Set<QueueConsumer<unknown>>();
  private closing = false;

  constructor(private readonly defaultConcurrency: number) {}

  async consume(
    pattern: string,
    queue: WorkQueue,
    options: ConsumeOptions,
    handler: QueueHandler,
  ): Promise<void> {
    const consumer = await queue.consume(options, handler);
    this.running.add(consumer);
    this.patterns.set(pattern, {
      queue,
      options,
      handler,
      consumer,
      concurrency: options.concurrency ?? this.defaultConcurrency,
      resizing: Promise.resolve(),
    });
  }

  /** See ServerZookeeper.setConcurrency. */
  async setConcurrency(pattern: string, concurrency: number): Promise<number> {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new InvalidOptionsError(
        `ServerZookeeper.setConcurrency('${pattern}'): 'concurrency' must be an integer of at ` +
          `least 1, got ${concurrency}: pass how many of its handlers may run at once`,
      );
    const entry = this.patterns.get(pattern);
    if (!entry)
      throw new TransportStateError(
        `ServerZookeeper: no queued pattern '${pattern}' (a listening server's @EventPattern without broadcast, or @MessagePattern)`,
      );
    const resize = entry.resizing.then(async () => {
      const previous = entry.concurrency;
      if (previous === concurrency || this.closing) return previous;
      const old = entry.consumer;
      await old.stop();
      this.running.delete(old);
      if (this.closing) return previous;
      const next = await entry.queue.consume({ ...entry.options, concurrency }, entry.handler);
      // Closed while it started: stop() did not see it.
      if (this.closing) return next.stop().then(() => previous);
      entry.consumer = next;
      entry.concurrency = concurrency;
      this.running.add(next);
      return previous;
    });
    // The next resize of the pattern waits for this one, whether it failed or not.
    entry.resizing = resize.then(
      () => undefined,
      () => undefined,
    );
    return resize;
  }

  concurrencyOf(pattern: string): number | undefined {
    return this.patterns.get(pattern)?.concurrency;
  }

  /**
   * Stops every consumer (each lets its handlers in flight finish their current message); a resize
   * under way stops its consumer itself and starts none. Settles once all have stopped.
   */
  async stop(): Promise<void> {
    this.closing = true;
    const resizing = [...this.patterns.values()].map((entry) => entry.resizing);
    this.patterns.clear();
    const consumers = [...this.running];
    this.running.clear();
    await Promise.allSettled([...consumers.map((consumer) => consumer.stop()), ...resizing]);
  }
}
