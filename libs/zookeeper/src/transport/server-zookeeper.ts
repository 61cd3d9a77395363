import { hostname } from 'node:os';
import {
  CustomTransportStrategy,
  MessageHandler,
  Server,
  WritePacket,
} from '@nestjs/microservices';
import { NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants.js';
import { concatMap, from, isObservable, lastValueFrom, retry, Subscription, tap } from 'rxjs';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Deferred, deferred } from '../internal/deferred.js';
import { settledWithin } from '../internal/sleep.js';
import { BroadcastDelivery } from '../messaging/broadcast/broadcast-subscriber.js';
import { BroadcastLog } from '../messaging/broadcast/broadcast-log.js';
import { MessageContext } from '../messaging/queue/queue-types.js';
import { ZookeeperMessaging } from '../messaging/zookeeper-messaging.js';
import { declarePattern } from './pattern-declarations.js';
import { QueuedPatterns } from './queued-patterns.js';
import { ReplyOutbox } from './reply-channel.js';
import { Withdrawals } from './withdrawals.js';
import { openTransportConnection } from './transport-connection.js';
import { InvalidPacketError, TransportStateError } from './transport-errors.js';
import { asEventPacket, asRequestPacket, EventPacket } from './transport-packets.js';
import { TransportPaths } from './transport-paths.js';
import { TransportStatus } from './transport-status.js';
import { ZookeeperContext, ZookeeperMessageInfo } from './zookeeper.context.js';
import { ZookeeperEvents, ZookeeperStatus } from './zookeeper.events.js';
import {
  checkTransportOptions,
  DEFAULT_TRANSPORT_ROOT,
  deliveryFromExtras,
  PatternDelivery,
  ServerZookeeperOptions,
} from './zookeeper-transport-options.interface.js';

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_BROADCAST_ATTEMPTS = 5;
const RESUBSCRIBE_DELAY_MS = 1000;
/** Replies and relayed messages write at once; batches still form under load. */
const PUBLISHING = { lingerMs: 0 };
/** What Nest's RPC exception filter answers for an unknown error. */
const INTERNAL_ERROR = { status: 'error', message: 'Internal server error' };

/** Nest's transport id for this strategy (`ctx` hooks and `instrument` see it). */
export const ZOOKEEPER_TRANSPORT = Symbol('ZOOKEEPER_TRANSPORT');

/**
 * A Nest microservice server over ZooKeeper: `@EventPattern` handlers take events from the
 * pattern's work queue, shared by every instance (each event handled by one instance, at least
 * once, retried and then dead-lettered), or, for patterns declared `broadcast`, from the pattern's
 * broadcast log (every instance receives every event in log order under its durable subscriber id).
 * `@MessagePattern` handlers take requests from the pattern's request queue (one instance handles
 * each) and reply into the requesting client's reply folder.
 *
 * Not guaranteed: a request is answered at most once per take; a server that dies while handling
 * one leaves it to another server only if its item was not yet finished (the client's deadline
 * bounds the wait). Within one batch (item), messages are handled in order, one at a time.
 */
export class ServerZookeeper
  extends Server<ZookeeperEvents, ZookeeperStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = ZOOKEEPER_TRANSPORT;
  override readonly propagatesEventHandlerErrors = true;
  private readonly paths: TransportPaths;
  private readonly transportStatus: TransportStatus;
  private messaging?: ZookeeperMessaging;
  private readonly subscriptions: Subscription[] = [];
  private readonly withdrawals = new Withdrawals();
  private readonly inFlight = new Set<Promise<unknown>>();
  private connection?: ZookeeperConnection;
  private ownsConnection = false;
  private outbox?: ReplyOutbox;
  /** The queue consumer of each queued pattern (events and requests), to resize it. */
  private readonly queued = new QueuedPatterns(DEFAULT_CONCURRENCY);
  /** The session id, read once per session (the connection builds it anew on every read). */
  private currentSessionId?: string;

  constructor(private readonly options: ServerZookeeperOptions) {
    super();
    checkTransportOptions('ServerZookeeper', options);
    this.paths = new TransportPaths(options.root ?? DEFAULT_TRANSPORT_ROOT);
    this.transportStatus = new TransportStatus(this._status$);
    this.initializeSerializer(options);
    this.initializeDeserializer(options);
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const { connection, owned } = await openTransportConnection(this.options, 'ServerZookeeper');
      this.connection = connection;
      this.ownsConnection = owned;
      this.messaging = new ZookeeperMessaging(connection);
      // A new session is announced on the connection's states: its id is read again after any.
      this.transportStatus.follow(connection, () => (this.currentSessionId = undefined));
      this.outbox = new ReplyOutbox(connection, this.paths);
      this.subscriptions.push(
        this.withdrawals.follow(connection, this.paths, (error) => this.report(error)),
      );
      for (const [pattern, handler] of this.messageHandlers) {
        await this.startPattern(connection, pattern, handler);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * Stops taking messages, waits for handlers in flight up to `closeGracePeriodMs` (their items are
   * given back unfinished after that: another instance resumes them), then closes.
   */
  async close(): Promise<void> {
    const grace = this.options.closeGracePeriodMs ?? 10_000;
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    await settledWithin(Promise.allSettled([this.queued.stop(), ...this.inFlight]), grace);
    await this.outbox?.close();
    await this.messaging?.close();
    this.transportStatus.stop();
    if (this.ownsConnection) await this.connection?.close();
  }

  on<K extends keyof ZookeeperEvents>(event: K, callback: ZookeeperEvents[K]): void {
    this.transportStatus.on(event, callback);
  }

  /** The ZooKeeper connection the server uses. */
  unwrap<T = ZookeeperConnection>(): T {
    if (!this.connection)
      throw new TransportStateError(
        'ServerZookeeper is not listening yet: call unwrap() after listen()',
      );
    return this.connection as T;
  }

  /**
   * Changes how many items the server takes at once for a queued pattern (an `@EventPattern` that
   * is not `broadcast`, or a `@MessagePattern`), e.g. on a live configuration change. The pattern's
   * queue consumer is stopped (its handlers in flight finish their current message; unfinished
   * items are given back with their progress, so nothing is lost or run twice) and started again
   * with the new concurrency. Calls for one pattern run one after the other; resolves once the new
   * consumer is taking items. Returns the previous concurrency.
   */
  setConcurrency(pattern: string, concurrency: number): Promise<number> {
    return this.queued.setConcurrency(this.normalizePattern(pattern), concurrency);
  }

  /** The current concurrency of a queued pattern (undefined for other patterns). */
  concurrencyOf(pattern: string): number | undefined {
    return this.queued.concurrencyOf(this.normalizePattern(pattern));
  }

  private delivery(pattern: string, handler: MessageHandler): PatternDelivery {
    const extras = (handler.extras ?? {}) as PatternDelivery;
    return {
      ...this.options.defaults,
      ...this.options.patterns?.[pattern],
      ...deliveryFromExtras(extras),
    };
  }

  private async startPattern(
    connection: ZookeeperConnection,
    pattern: string,
    handler: MessageHandler,
  ): Promise<void> {
    const delivery = this.delivery(pattern, handler);
    if (!handler.isEventHandler) return this.startRequests(pattern, delivery);
    await declarePattern(connection, this.paths, pattern, delivery.broadcast === true);
    if (delivery.broadcast) return this.startBroadcast(pattern, delivery);
    const queue = this.messaging!.queue(this.paths.eventQueue(pattern), PUBLISHING);
    await this.queued.consume(
      pattern,
      queue,
      {
        concurrency: delivery.concurrency ?? DEFAULT_CONCURRENCY,
        maxAttempts: delivery.maxAttempts,
      },
      (message, item) => this.onQueuedEvent(pattern, message, item, delivery),
    );
  }

  /**
   * One queued event. The queue's consumer awaits the returned promise, and its `stop()` waits for
   * it, so close() covers it without tracking it here.
   */
  private onQueuedEvent(
    pattern: string,
    message: unknown,
    item: MessageContext,
    delivery: PatternDelivery,
  ): Promise<void> {
    const path = item.path;
    const packet = this.readPacket(message, path, asEventPacket);
    if (!packet) return Promise.resolve();
    return this.dispatchEvent(
      packet,
      delivery,
      {
        pattern,
        path,
        offset: undefined,
        index: item.index,
        attempt: item.attempt,
        sessionId: this.sessionId(),
        metadata: packet.metadata,
        ack: undefined,
        nack: undefined,
      },
      false,
    );
  }

  private startBroadcast(pattern: string, delivery: PatternDelivery): void {
    const log = this.messaging!.broadcast(this.paths.broadcastLog(pattern), PUBLISHING);
    const subscriberId = this.options.subscriberId ?? hostname().replace(/[^\w.:@-]/g, '_');
    const attempts = Math.max(1, delivery.maxAttempts ?? DEFAULT_BROADCAST_ATTEMPTS);
    this.subscriptions.push(
      log
        .deliveries(subscriberId, { from: 'earliest' })
        // One at a time, in log order; an ack covers every earlier offset.
        .pipe(
          concatMap((received) =>
            from(this.onBroadcast(pattern, log, received, attempts, delivery)),
          ),
          // A failed subscription (a corrupt offset, a lost registration) is reported and started
          // again from the committed offset, so the instance never silently stops receiving.
          tap({ error: (error: unknown) => this.report(error) }),
          retry({ delay: RESUBSCRIBE_DELAY_MS }),
        )
        .subscribe(),
    );
  }

  private async onBroadcast(
    pattern: string,
    log: BroadcastLog,
    received: BroadcastDelivery<unknown>,
    attempts: number,
    delivery: PatternDelivery,
  ): Promise<void> {
    const packet = this.readPacket(received.message, log.paths.log, asEventPacket);
    for (let attempt = 1; packet && attempt <= attempts; attempt++) {
      try {
        await this.dispatchEvent(
          packet,
          delivery,
          {
            pattern,
            path: log.paths.log,
            offset: received.offset,
            index: undefined,
            attempt,
            sessionId: this.sessionId(),
            metadata: packet.metadata,
            ack: undefined,
            nack: undefined,
          },
          // Unsubscribing does not wait for the handler: close() does, through `inFlight`.
          true,
        );
        break;
      } catch (error) {
        // A broadcast has no dead letters: after the last attempt the event is skipped, reported.
        this.report(error);
      }
    }
    received.ack();
  }

  /**
   * Runs an event handler between Nest's processing hooks; settles with the handler (with a
   * `manualAck` pattern, with its ack or nack).
   */
  private dispatchEvent(
    packet: EventPacket,
    delivery: PatternDelivery,
    info: ZookeeperMessageInfo,
    track: boolean,
  ): Promise<void> {
    const handler = this.handlerOf(packet.pattern);
    if (!handler) {
      this.report(
        new InvalidPacketError(`no event handler for pattern '${packet.pattern}'`, info.path),
      );
      return Promise.resolve();
    }
    let settled: Deferred | undefined;
    if (delivery.manualAck) {
      const manual = deferred();
      info.ack = () => manual.resolve();
      info.nack = (error?: unknown) => manual.reject(error ?? new Error('nacked'));
      settled = manual;
    }
    const context = new ZookeeperContext([info]);
    return new Promise<void>((resolve, reject) => {
      const work = this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await handler(packet.data, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          if (settled) await settled.promise;
          resolve();
        } catch (error) {
          reject(error);
        } finally {
          runEndHook();
        }
      }) as unknown;
      if (track && work instanceof Promise) this.track(work);
    });
  }

  private startRequests(pattern: string, delivery: PatternDelivery): Promise<void> {
    const queue = this.messaging!.queue(this.paths.requestQueue(pattern), PUBLISHING);
    return this.queued.consume(
      pattern,
      queue,
      // A failed handler is an error reply, not a failed attempt: one run per request.
      { concurrency: delivery.concurrency ?? DEFAULT_CONCURRENCY, maxAttempts: 1 },
      (message, item) => this.onRequest(pattern, message, item.path, item),
    );
  }

  private onRequest(
    pattern: string,
    message: unknown,
    path: string,
    item: MessageContext,
  ): Promise<void> {
    const packet = this.readPacket(message, path, asRequestPacket);
    if (!packet) return Promise.resolve();
    // Given up by the client: no reply would be read.
    if (packet.deadline < Date.now() || this.withdrawals.has(packet.replyTo, packet.id)) {
      return Promise.resolve();
    }
    const replies = this.outbox!.open(
      packet.replyTo,
      (reply) => this.serializer.serialize({ ...reply, id: packet.id }),
      (error) => this.report(error),
    );
    const handler = this.handlerOf(packet.pattern);
    if (!handler) {
      replies.send({ id: packet.id, status: 'error', err: NO_MESSAGE_HANDLER } as WritePacket);
      return replies.settled();
    }
    const info = { pattern, path, index: item.index, attempt: 1, sessionId: this.sessionId() };
    const context = new ZookeeperContext([{ ...info, metadata: packet.metadata }]);
    return new Promise<void>((resolve) => {
      const respond = (reply: WritePacket) => {
        replies.send(reply);
        if (reply.isDisposed || reply.err !== undefined) void replies.settled().then(resolve);
      };
      const handling: unknown = this.handleRequest(
        context,
        async () => this.transformToObservable(await handler(packet.data, context)),
        respond,
      );
      // A processing hook or a raw handler that rejects: an error reply, and the request settles.
      if (handling instanceof Promise) {
        handling.catch((error: unknown) => {
          this.report(error);
          respond({ err: INTERNAL_ERROR, isDisposed: true } as WritePacket);
        });
      }
    });
  }

  /**
   * The client sends the normalized pattern, which is the key the handler was stored under: one
   * map lookup per message (Nest's getHandlerByPattern first tries to JSON.parse the pattern).
   */
  private handlerOf(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? this.getHandlerByPattern(pattern);
  }

  /** Deserializes and checks a stored packet; a bad one is reported and skipped (undefined). */
  private readPacket<P>(
    message: unknown,
    path: string,
    check: (value: unknown, path: string) => P,
  ): P | undefined {
    try {
      return check(this.deserializer.deserialize(message), path);
    } catch (error) {
      this.report(
        error instanceof InvalidPacketError ? error : new InvalidPacketError(String(error), path),
      );
      return undefined;
    }
  }

  private sessionId(): string {
    return (this.currentSessionId ??= this.connection!.session.id);
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private report(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.logger.error(failure.message, failure.stack);
    this.transportStatus.error(failure);
  }
}
