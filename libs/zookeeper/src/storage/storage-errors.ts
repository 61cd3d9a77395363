import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

/** A key broke one of the key rules; `rule` names which. */
export class InvalidKeyError extends ZookeeperError {
  constructor(
    readonly key: string,
    readonly rule: string,
  ) {
    super(LibraryErrorCode.INVALID_KEY, `invalid storage key ${JSON.stringify(key)}: ${rule}`);
  }
}

/** The serialized value is larger than a znode may hold and chunking is disabled. */
export class ValueTooLargeError extends ZookeeperError {
  constructor(
    readonly key: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      LibraryErrorCode.VALUE_TOO_LARGE,
      `value of ${JSON.stringify(key)} is ${size} bytes, above the ${limit}-byte limit of one znode: ` +
        'enable chunking (storage option chunking: true) or store less',
      { operation: 'set' },
    );
  }
}

/** `update` kept losing the compare-and-set race to other writers. */
export class UpdateConflictError extends ZookeeperError {
  constructor(key: string, attempts: number) {
    super(
      LibraryErrorCode.UPDATE_CONFLICT,
      `update of ${JSON.stringify(key)} lost the compare-and-set race ${attempts} times: ` +
        'too many concurrent writers; raise `retries` or reduce contention',
      { operation: 'update' },
    );
  }
}

/** The stored value cannot be used as asked (e.g. increment of a non-number). */
export class InvalidValueError extends ZookeeperError {
  constructor(key: string, message: string) {
    super(LibraryErrorCode.INVALID_VALUE, `${JSON.stringify(key)}: ${message}`);
  }
}

/** A chunked value failed its size or checksum check (it was changed by something else). */
export class CorruptValueError extends ZookeeperError {
  constructor(key: string, message: string) {
    super(
      LibraryErrorCode.CORRUPT_VALUE,
      `chunked value of ${JSON.stringify(key)} is corrupt: ${message}`,
    );
  }
}
