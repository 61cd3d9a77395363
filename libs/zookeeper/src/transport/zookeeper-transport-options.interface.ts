import type { Deserializer, Serializer as NestSerializer } from '@nestjs/microservices';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ZookeeperOptions } from '../connection/zookeeper-options.interface.js';
import { nonNegativeMs, positiveInteger, positiveMs } from '../internal/option-checks.js';

/** How one pattern is delivered. */
export interface PatternDelivery {
  /**
   * Events only: every instance of the service receives every event, in log order, from the
   * pattern's broadcast log (default false: one instance handles each event, from a work queue).
   */
  broadcast?: boolean;
  /** Items (batches of events or requests) a server handles at once for this pattern. Default 4. */
  concurrency?: number;
  /** Queue events only: failed runs before an event goes to the dead letters. Default 5. */
  maxAttempts?: number;
  /**
   * The handler settles each event with `ctx.ack()` / `ctx.nack(error?)` instead of by returning.
   * Default false.
   */
  manualAck?: boolean;
}

/** What ServerZookeeper and ClientZookeeper share. */
export interface ZookeeperTransportCommonOptions {
  /** An open connection to use (not closed by the transport) ... */
  connection?: ZookeeperConnection;
  /** ... or options of a connection the transport opens and closes itself. */
  connectionOptions?: ZookeeperOptions;
  /** Where the transport's queues, logs and replies live. Default '/nest-microservices'. */
  root?: string;
  /** Per-pattern delivery, by the pattern as written in the decorator (objects as JSON). */
  patterns?: Record<string, PatternDelivery>;
}

export interface ServerZookeeperOptions extends ZookeeperTransportCommonOptions {
  /**
   * The durable subscriber id of this instance for broadcast patterns: a restarted instance with
   * the same id resumes after its last committed offset. Default: the host name.
   */
  subscriberId?: string;
  /** Defaults for patterns not listed in `patterns`. */
  defaults?: PatternDelivery;
  /** How long `close()` waits for handlers in flight before giving their items back. Default 10 s. */
  closeGracePeriodMs?: number;
  serializer?: NestSerializer;
  deserializer?: Deserializer;
}

export interface ClientZookeeperOptions extends ZookeeperTransportCommonOptions {
  /**
   * A request with no reply this long fails with RequestTimeoutError naming the pattern, and a
   * server that takes it later drops it. Default 30 s.
   */
  requestTimeoutMs?: number;
  serializer?: NestSerializer;
  deserializer?: Deserializer;
}

export const DEFAULT_TRANSPORT_ROOT = '/nest-microservices';

/** The delivery settings among a decorator's extras (`@EventPattern(p, { broadcast: true })`). */
export function deliveryFromExtras(extras: PatternDelivery): PatternDelivery {
  const { broadcast, concurrency, maxAttempts, manualAck } = extras;
  return Object.fromEntries(
    Object.entries({ broadcast, concurrency, maxAttempts, manualAck }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

/**
 * The numeric options of a transport (and of each pattern's delivery), checked by its
 * constructor: a bad value fails there, not when the first message of the pattern arrives.
 */
export function checkTransportOptions(
  owner: 'ServerZookeeper' | 'ClientZookeeper',
  options: Partial<ServerZookeeperOptions & ClientZookeeperOptions>,
): void {
  const deliveries: Array<[string, PatternDelivery | undefined]> = [
    ['defaults', options.defaults],
    ...Object.entries(options.patterns ?? {}).map(
      ([pattern, delivery]): [string, PatternDelivery] => [`patterns[${pattern}]`, delivery],
    ),
  ];
  for (const [where, delivery] of deliveries) {
    positiveInteger(owner, `${where}.concurrency`, delivery?.concurrency);
    positiveInteger(owner, `${where}.maxAttempts`, delivery?.maxAttempts);
  }
  nonNegativeMs(owner, 'closeGracePeriodMs', options.closeGracePeriodMs);
  positiveMs(owner, 'requestTimeoutMs', options.requestTimeoutMs);
}
