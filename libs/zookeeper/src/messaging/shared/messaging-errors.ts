import { LibraryErrorCode } from '../../errors/library-errors.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';

/** A message does not fit in one znode; refused before anything of its publish was written. */
export class MessageTooLargeError extends ZookeeperError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      LibraryErrorCode.MESSAGE_TOO_LARGE,
      `a message of ${size} bytes is above the ${limit}-byte limit of one batch znode: ` +
        'store large payloads in ZookeeperStorage (chunked) and publish their key instead',
      { operation: 'publish' },
    );
  }
}

/**
 * A publish refused at once, nothing of it queued: the messages published and not yet written
 * (ZooKeeper slow or unreachable) already hold `maxPendingBytes`. Retry later, or shed load.
 */
export class PublishBufferFullError extends ZookeeperError {
  constructor(
    readonly pendingBytes: number,
    readonly publishBytes: number,
    readonly maxPendingBytes: number,
  ) {
    super(
      LibraryErrorCode.PUBLISH_BUFFER_FULL,
      `${pendingBytes} bytes wait to be written and this publish adds ${publishBytes}: ` +
        `above maxPendingBytes (${maxPendingBytes}); is ZooKeeper reachable?`,
      { operation: 'publish' },
    );
  }
}

/**
 * A broadcast log used every segment its offsets can address (an offset is a safe integer): it
 * takes no more batches. Publish to a new topic (or move subscribers to one).
 */
export class SequenceExhaustedError extends ZookeeperError {
  constructor(folder: string, segments: number) {
    super(
      LibraryErrorCode.SEQUENCE_EXHAUSTED,
      `${folder} used all ${segments} segments its offsets can address; publish to a new topic`,
      { operation: 'publish', path: folder },
    );
  }
}

/** A log or queue znode does not hold a batch this library wrote. */
export class CorruptBatchError extends ZookeeperError {
  constructor(path: string, reason: string) {
    super(LibraryErrorCode.CORRUPT_BATCH, `not a message batch: ${reason}`, {
      operation: 'read',
      path,
    });
  }
}

/** A subscriber's stored offset (`<topic>/offsets/<id>`) is not one this library wrote. */
export class CorruptOffsetError extends ZookeeperError {
  constructor(path: string, reason: string) {
    super(
      LibraryErrorCode.CORRUPT_OFFSET,
      `not a stored offset: ${reason} (removeSubscriber(id) resets this subscriber)`,
      { operation: 'read', path },
    );
  }
}

/** The broadcast log or work queue was closed; nothing more is published or delivered. */
export class MessagingClosedError extends ZookeeperError {
  constructor(what: string) {
    super(LibraryErrorCode.MESSAGING_CLOSED, `${what} is closed`, { operation: 'publish' });
  }
}

/**
 * A delivery was given back unsettled (its Observable subscriber unsubscribed before `ack()`):
 * the consumer releases the item at that message without counting an attempt.
 */
export class DeliveryReleasedError extends ZookeeperError {
  constructor() {
    super(LibraryErrorCode.DELIVERY_RELEASED, 'delivery released unacknowledged');
  }
}

const NOT_APPENDED_REASONS = {
  stopped: 'the relay stopped',
  deposed: 'the fence refused it: no longer leading',
  failed: 'the step failed',
} as const;

/**
 * A relay's direct append (LogRelay.append) did not put the message in the log, and never will:
 * the relay stopped first, its fence refused the step (`reason: 'deposed'`), or the step failed
 * with an answer from the server. Publish the message to the relay's source instead (the next
 * relay takes it from there).
 */
export class NotAppendedError extends ZookeeperError {
  constructor(
    readonly reason: keyof typeof NOT_APPENDED_REASONS,
    cause?: unknown,
  ) {
    super(
      LibraryErrorCode.NOT_APPENDED,
      `not appended to the log (${NOT_APPENDED_REASONS[reason]}); publish it to the source instead`,
      { operation: 'relay append', cause },
    );
  }
}

/**
 * A relay's direct append whose step lost its reply (the connection dropped while it was in
 * flight), and the relay stopped, or its connection closed, before it could look whether the
 * step applied: the message may be in the log or not. Publishing it to the source again may
 * append it twice.
 */
export class AppendOutcomeUnknownError extends ZookeeperError {
  constructor(cause?: unknown) {
    super(
      LibraryErrorCode.APPEND_OUTCOME_UNKNOWN,
      'the reply to the append was lost and the relay stopped before it could learn whether ' +
        'the message reached the log; it may be there or not',
      { operation: 'relay append', cause },
    );
  }
}
