import {
  BATCH_HEADER_BYTES,
  DEFAULT_MAX_BATCH_BYTES,
  encodeBatch,
  MAX_BATCH_MESSAGES,
  MESSAGE_OVERHEAD_BYTES,
} from './message-batch.js';
import { SerializationError } from '../../codec/serialization-error.js';
import type { Serializer } from '../../codec/serializers.js';
import {
  MessageTooLargeError,
  MessagingClosedError,
  PublishBufferFullError,
} from './messaging-errors.js';

export interface BatcherOptions {
  /**
   * Under load, how long the first message of a batch waits for company. A lone publish is never
   * held back: while the last batch was a single message with nothing queued behind it, a publish
   * is written at once (publishes of the same event-loop turn share its batch). Once batches carry
   * company (a burst, or publishes arriving while a batch is being written), the next batch may
   * wait up to `lingerMs` for more, and goes at once when it is as big as the last batch written.
   * Default 5 ms; 0 never waits.
   */
  lingerMs?: number;
  /** Upper bound of one batch znode's data. Default 900,000 bytes. */
  maxBatchBytes?: number;
  /**
   * Bytes published and not yet written (queued, and the batch being written) at most: a publish
   * that would go over is refused at once with PublishBufferFullError, nothing of it queued.
   * Default 64 MiB (DEFAULT_MAX_PENDING_BYTES).
   */
  maxPendingBytes?: number;
}

/** The default `maxPendingBytes`: 64 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * Writes one encoded batch (a sequential znode); resolves with the created node's path once it
 * is durable.
 */
export type BatchWriter = (batch: Buffer, count: number) => Promise<string>;

/** Where one published payload was stored: the batch znode's path and its index in the batch. */
export interface BatchPosition {
  readonly path: string;
  readonly index: number;
}

interface Ticket {
  remaining: number;
  settled: boolean;
  positions: BatchPosition[];
  resolve: (positions: BatchPosition[]) => void;
  reject: (error: unknown) => void;
}

interface Pending {
  payload: Buffer;
  ticket: Ticket;
  /** Its index among the payloads of its `add` call. */
  slot: number;
}

/**
 * Groups published messages into batches. One batch is written at a time: a single writer's
 * batches then get sequence numbers in publish order (pipelined creates could be reordered by
 * a retry after connection loss), and messages published while a write is in flight form the
 * next batch, so throughput grows with load instead of with the number of znode writes.
 *
 * When to write (Nagle's rule with a linger under load): an idle batcher writes on the next turn
 * of the event loop, so an awaited lone publish costs no waiting; while a batch is in flight the
 * next one gathers; after batches that had company (`loaded`), an idle batcher lingers up to
 * `lingerMs` for more, because more is likely to come, but no longer than it takes to queue as many
 * as the last batch carried (a publisher with a fixed number in flight has them all queued again).
 *
 * Order under failure: when a batch fails, every message queued behind it fails with the same
 * error (none is written after it), so a caller that publishes the failed ones again keeps its
 * order; a publish made after the failure is written as usual.
 */
export class Batcher {
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  /** Bytes of the batch being written. */
  private writingBytes = 0;
  private readonly maxPendingBytes: number;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  /** The last batch written had company: more than one message, or more queued behind it. */
  private loaded = false;
  /** Messages in the last batch written: a lingering batch that has as many goes at once. */
  private lastBatchCount = 0;
  private writing?: Promise<void>;
  private closed = false;

  constructor(
    private readonly what: string,
    private readonly write: BatchWriter,
    options: BatcherOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  }

  /**
   * `publish` of both primitives: one message, or each message of an array, serialized and then
   * added; a message that cannot be serialized rejects the call before anything is queued.
   */
  addMessages<T>(messages: T | readonly T[], serializer: Serializer): Promise<BatchPosition[]> {
    const list = Array.isArray(messages) ? (messages as readonly T[]) : [messages as T];
    let payloads: Buffer[];
    try {
      payloads = list.map((message, index) => {
        try {
          return serializer.serialize(message);
        } catch (error) {
          throw new SerializationError(
            `message ${index} of a publish to ${this.what}`,
            'serialize',
            error,
          );
        }
      });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.add(payloads);
  }

  /**
   * Queues `payloads` (in order, possibly across several batches); resolves with the position of
   * each once all of them are written, rejects when a batch holding one of them fails. An oversize
   * payload refuses the whole call before anything is queued.
   */
  add(payloads: readonly Buffer[]): Promise<BatchPosition[]> {
    if (this.closed) return Promise.reject(new MessagingClosedError(this.what));
    const limit = this.maxBatchBytes - BATCH_HEADER_BYTES - MESSAGE_OVERHEAD_BYTES;
    const oversize = payloads.find((payload) => payload.length > limit);
    if (oversize) return Promise.reject(new MessageTooLargeError(oversize.length, limit));
    if (payloads.length === 0) return Promise.resolve([]);
    const bytes = payloads.reduce(
      (sum, payload) => sum + payload.length + MESSAGE_OVERHEAD_BYTES,
      0,
    );
    const pending = this.queuedBytes + this.writingBytes;
    if (pending + bytes > this.maxPendingBytes) {
      return Promise.reject(new PublishBufferFullError(pending, bytes, this.maxPendingBytes));
    }
    return new Promise<BatchPosition[]>((resolve, reject) => {
      const ticket: Ticket = {
        remaining: payloads.length,
        settled: false,
        positions: new Array<BatchPosition>(payloads.length),
        resolve,
        reject,
      };
      for (const [slot, payload] of payloads.entries()) {
        this.queue.push({ payload, ticket, slot });
        this.queuedBytes += payload.length + MESSAGE_OVERHEAD_BYTES;
      }
      this.schedule();
    });
  }

  /**
   * Nothing is queued or being written, and the last batch went alone: a message added now would
   * be written alone anyway (a `flush()` right after it only saves the turn of the event loop).
   */
  get quiet(): boolean {
    return this.writing === undefined && this.queue.length === 0 && !this.loaded;
  }

  /** Writes what is queued now, without waiting for the linger window; resolves when idle. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) {
      if (!this.writing) this.startWriting();
      await this.writing?.catch(() => undefined);
    }
  }

  /** Writes what is queued, then refuses new messages. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.queuedBytes + BATCH_HEADER_BYTES >= this.maxBatchBytes) return this.startWriting();
    if (this.immediate) return;
    // Lingering is for company that is still coming: once the batch is as big as the last one
    // (a publisher with a fixed number in flight has them all queued again), waiting for the
    // rest of the window would only delay it.
    if (this.timer && this.queue.length < this.lastBatchCount) return;
    if (this.loaded && this.lingerMs > 0 && this.queue.length < this.lastBatchCount) {
      this.timer = setTimeout(() => this.startWriting(), this.lingerMs);
    } else {
      this.immediate = setImmediate(() => this.startWriting());
    }
  }

  private startWriting(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // Messages added after the last loop check but before this callback found a writer busy.
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      let path: string;
      try {
        path = await this.write(encodeBatch(batch.map((item) => item.payload)), batch.length);
        this.loaded = batch.length > 1 || this.queue.length > 0;
        this.lastBatchCount = batch.length;
      } catch (error) {
        // Nothing queued behind a failed batch is written: a retry then keeps publish order.
        const failed = [...batch, ...this.queue.splice(0)];
        this.queuedBytes = 0;
        for (const { ticket } of failed) settle(ticket, error);
        continue;
      } finally {
        this.writingBytes = 0;
      }
      for (const [index, { ticket, slot }] of batch.entries()) {
        ticket.positions[slot] = { path, index };
        if (--ticket.remaining === 0) settle(ticket);
      }
    }
  }

  private takeBatch(): Pending[] {
    let bytes = BATCH_HEADER_BYTES;
    let count = 0;
    while (count < this.queue.length && count < MAX_BATCH_MESSAGES) {
      const next = this.queue[count].payload.length + MESSAGE_OVERHEAD_BYTES;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    this.queuedBytes -= bytes - BATCH_HEADER_BYTES;
    this.writingBytes = bytes - BATCH_HEADER_BYTES;
    return this.queue.splice(0, count);
  }
}

function settle(ticket: Ticket, error?: unknown): void {
  if (ticket.settled) return;
  ticket.settled = true;
  if (error === undefined) ticket.resolve(ticket.positions);
  else ticket.reject(error);
}
