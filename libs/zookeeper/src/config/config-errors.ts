import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

/**
 * The configuration read from ZooKeeper (or from the snapshot file) failed its types, its schema
 * or its `validate` function. `problems` lists every one, each naming the key and its layer.
 */
export class ConfigValidationError extends ZookeeperError {
  constructor(
    readonly application: string,
    readonly problems: readonly string[],
  ) {
    super(
      LibraryErrorCode.CONFIG_INVALID,
      `configuration of "${application}" is invalid (${problems.length} ${
        problems.length === 1 ? 'problem' : 'problems'
      }):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
      { operation: 'config' },
    );
  }
}

/**
 * No configuration could be read at startup: ZooKeeper did not answer (or the layers were not read)
 * before `startupTimeoutMs`, and no usable snapshot file was configured or found.
 */
export class ConfigUnavailableError extends ZookeeperError {
  constructor(
    readonly application: string,
    readonly connectString: string,
    readonly timeoutMs: number,
    reason: string,
    cause?: unknown,
  ) {
    super(
      LibraryErrorCode.CONFIG_UNAVAILABLE,
      `configuration of "${application}" could not be read from ZooKeeper at '${connectString}' ` +
        `within ${timeoutMs} ms (${reason})` +
        (cause instanceof Error ? `: ${cause.message}` : ''),
      cause === undefined ? { operation: 'config' } : { operation: 'config', cause },
    );
  }
}
