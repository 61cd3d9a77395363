import { DeliveryReleasedError } from '../shared/messaging-errors.js';
import { Observable } from 'rxjs';
import { QueueConsumer } from './queue-consumer.js';
import { MessageContext, MessageHandler } from './queue-types.js';

/** One message of a work queue, as delivered by `WorkQueue.deliveries()`. */
export interface QueueDelivery<T> extends MessageContext {
  readonly message: T;
  /** Done: the consumer goes on with the item's next message. */
  ack(): void;
  /**
   * Failed: counts as a failed attempt, as a handler error does (run again after `retryDelayMs`,
   * moved to the dead letters after `maxAttempts`).
   */
  nack(error?: unknown): void;
}

type Outcome = { ok: true } | { ok: false; error: unknown };

/**
 * The consumer as an Observable: each message is emitted as a delivery and the consumer's handler
 * waits for its `ack()` or `nack()`. Subscribing starts a consumer; unsubscribing stops it and
 * gives every unsettled delivery back (its item is released at that message, without counting an
 * attempt), so another consumer can take it.
 */
export function consumerDeliveries<T>(
  start: (handler: MessageHandler<T>) => Promise<QueueConsumer<T>>,
  stop: (consumer: QueueConsumer<T>) => Promise<void>,
): Observable<QueueDelivery<T>> {
  return new Observable<QueueDelivery<T>>((sink) => {
    const unsettled = new Set<(outcome: Outcome) => void>();
    let consumer: QueueConsumer<T> | undefined;
    let closed = false;

    const handler: MessageHandler<T> = (message, context) => {
      if (closed) throw new DeliveryReleasedError();
      return new Promise<void>((resolve, reject) => {
        const settle = (outcome: Outcome) => {
          if (!unsettled.delete(settle)) return;
          if (outcome.ok) resolve();
          else reject(outcome.error);
        };
        unsettled.add(settle);
        const { item, path, index, attempt } = context;
        sink.next({
          message,
          item,
          path,
          index,
          attempt,
          ack: () => settle({ ok: true }),
          nack: (error?: unknown) =>
            settle({ ok: false, error: error ?? new Error(`nack of ${item}:${index}`) }),
        });
      });
    };

    start(handler).then(
      (started) => {
        consumer = started;
        if (closed) void stop(started);
      },
      (error: unknown) => sink.error(error),
    );

    return () => {
      closed = true;
      // Stopping first: the consumer takes no further message once its current ones settle.
      const stopping = consumer && stop(consumer);
      for (const settle of [...unsettled])
        settle({ ok: false, error: new DeliveryReleasedError() });
      void stopping?.catch(() => undefined);
    };
  });
}
