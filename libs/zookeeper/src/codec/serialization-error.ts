import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

/**
 * A value could not be turned into znode bytes (or back) by the configured serializer; nothing
 * was written. The message says why and, where another serializer fits, names it.
 */
export class SerializationError extends ZookeeperError {
  constructor(
    /** What was being encoded, e.g. `the value of "orders/42"` or `message 3 of a publish`. */
    readonly subject: string,
    readonly direction: 'serialize' | 'deserialize',
    cause: unknown,
  ) {
    super(
      LibraryErrorCode.SERIALIZATION,
      `could not ${direction} ${subject}: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}
