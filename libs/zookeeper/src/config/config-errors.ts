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

/**
 * A layer's own document (the data of its znode, JSON or YAML) cannot be read: it does not parse,
 * or it is not an object of keys. `layer` names the layer and `layerPath` its znode. At startup
 * it is one of ConfigValidationError's problems, later a `rejected` event; exportConfigLayer
 * throws it.
 */
export class ConfigDocumentError extends ZookeeperError {
  constructor(
    readonly layer: string,
    readonly layerPath: string,
    problem: string,
    cause?: unknown,
  ) {
    super(
      LibraryErrorCode.CONFIG_DOCUMENT,
      `layer ${layer}: ${problem}: fix the document in the data of ${layerPath} ` +
        '(a JSON or YAML object of keys), or empty it and keep the keys as child znodes',
      cause === undefined ? {} : { cause },
    );
  }
}
