import { Acl, Stat } from '../driver/driver-types.js';
import { MultiFailure, MultiOp } from '../driver/multi.js';
import { createZookeeperError } from '../errors/create-zookeeper-error.js';
import { TransactionFailedError } from '../errors/driver-errors.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { OPEN_ACL_UNSAFE } from './acls.js';
import { CreateMode, isSequential, isTtl } from './create-mode.enum.js';
import { validatePath } from './paths.js';
import { assertAcl, MAX_VERSION, toBuffer } from './request-checks.js';
import { VersionOptions } from './request-options.interface.js';

/** One operation of a transaction, with the paths as the caller writes them. */
export type TransactionOp =
  | {
      type: 'create';
      path: string;
      data?: Buffer | string;
      mode?: CreateMode;
      acl?: readonly Acl[];
      ttlMs?: number;
    }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'set'; path: string; data: Buffer | string; version?: number }
  /** Applies nothing itself: the transaction fails unless the node is at `version`. */
  | { type: 'check'; path: string; version: number };

/** What each operation of a committed transaction produced, in order. */
export type TransactionResult =
  | { type: 'create'; path: string }
  | { type: 'delete' }
  | { type: 'set'; stat: Stat }
  | { type: 'check' };

export interface TransactionCreateOptions {
  mode?: CreateMode;
  acl?: readonly Acl[];
  ttlMs?: number;
}

/**
 * Collects operations and commits them as one ZooKeeper `multi`: all are applied, or none. Get
 * one from `connection.transaction()`; every method returns the builder for chaining.
 */
export class Transaction {
  private readonly ops: TransactionOp[] = [];

  constructor(private readonly run: (ops: TransactionOp[]) => Promise<TransactionResult[]>) {}

  create(path: string, data?: Buffer | string, options: TransactionCreateOptions = {}): this {
    this.ops.push({ type: 'create', path, data, ...options });
    return this;
  }

  delete(path: string, options: VersionOptions = {}): this {
    this.ops.push({ type: 'delete', path, version: options.version });
    return this;
  }

  set(path: string, data: Buffer | string, options: VersionOptions = {}): this {
    this.ops.push({ type: 'set', path, data, version: options.version });
    return this;
  }

  /** The transaction fails (applying nothing) unless `path` is at `version`. */
  check(path: string, version: number): this {
    this.ops.push({ type: 'check', path, version });
    return this;
  }

  /** Applies every operation or none; rejects with TransactionFailedError naming the culprit. */
  commit(): Promise<TransactionResult[]> {
    return this.run([...this.ops]);
  }
}

/** The driver's form of `ops`: server paths, bytes, checked versions, an ACL on every create. */
export function toDriverOps(
  ops: readonly TransactionOp[],
  toServerPath: (path: string) => string,
  defaultAcl: readonly Acl[] | undefined,
): MultiOp[] {
  if (!Array.isArray(ops) || ops.length === 0)
    throw new InvalidOptionsError('a transaction needs at least one operation');
  return ops.map((op, index): MultiOp => {
    const type = (op as { type?: unknown })?.type;
    if (type !== 'create' && type !== 'delete' && type !== 'set' && type !== 'check')
      throw new InvalidOptionsError(
        `transaction operation ${index} has type ${JSON.stringify(type)}: use 'create', 'delete', 'set' or 'check'`,
      );
    const mode = op.type === 'create' ? (op.mode ?? CreateMode.PERSISTENT) : undefined;
    validatePath(
      op.path,
      `multi (operation ${index}: ${op.type})`,
      mode !== undefined && isSequential(mode),
    );
    const path = toServerPath(op.path);
    switch (op.type) {
      case 'create': {
        if (isTtl(mode!) !== (op.ttlMs !== undefined))
          throw new InvalidOptionsError(
            `ttlMs must be given with the TTL create modes, and only with them (${op.path})`,
          );
        const acl = op.acl ?? defaultAcl ?? OPEN_ACL_UNSAFE;
        assertAcl(acl, op.path);
        return {
          type: 'create',
          path,
          data: toBuffer(op.data ?? Buffer.alloc(0)),
          flags: mode!,
          acl,
          ttlMs: op.ttlMs,
        };
      }
      case 'delete':
        return { type: 'delete', path, version: versionOf(op.version, index) };
      case 'set':
        return {
          type: 'set',
          path,
          data: toBuffer(op.data),
          version: versionOf(op.version, index),
        };
      case 'check':
        if (op.version === undefined)
          throw new InvalidOptionsError(`transaction operation ${index} (check) needs a version`);
        return { type: 'check', path, version: versionOf(op.version, index) };
    }
    throw new InvalidOptionsError(`transaction operation ${index} is not an operation`);
  });
}

function versionOf(version: number | undefined, index: number): number {
  if (version === undefined) return -1;
  if (!Number.isInteger(version) || version < -1 || version > MAX_VERSION)
    throw new InvalidOptionsError(
      `transaction operation ${index} has version ${String(version)}: use an integer from -1 to ${MAX_VERSION}`,
    );
  return version;
}

/** The typed error of a failed transaction, naming the operation that failed. */
export function transactionError(
  failure: MultiFailure,
  ops: readonly TransactionOp[],
): TransactionFailedError {
  const op = ops[failure.index];
  const cause = createZookeeperError(failure.rc, failure.message, {
    operation: `multi (operation ${failure.index}: ${op?.type})`,
    path: op?.path,
  });
  return new TransactionFailedError(cause, failure.index, failure.codes);
}
