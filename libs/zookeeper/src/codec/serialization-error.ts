import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

/**
 * A value could not be turned into znode bytes (or back) by the configured serializer; nothing
 * was written. The message says why and, where another serializer fits, names it.
 */
export class SerializationError extends ZookeeperError {
  /** Why, without the subject: the cause's message (a wrapped SerializationError's own reason). */
  readonly reason: string;

  constructor(
    /** What was being encoded, e.g. `the value of "orders/42"` or `message 3 of a publish`. */
    readonly subject: string,
    readonly direction: 'serialize' | 'deserialize',
    cause: unknown,
  ) {
    // A serializer's own SerializationError, wrapped by its caller to name the subject, gives its
    // reason, not its whole message: "could not serialize X: could not serialize Y: ..." says
    // nothing more.
    const reason =
      cause instanceof SerializationError
        ? cause.reason
        : ((cause as Error)?.message ?? String(cause));
    super(LibraryErrorCode.SERIALIZATION, `could not ${direction} ${subject}: ${reason}`, {
      cause,
    });
    this.reason = reason;
  }
}
