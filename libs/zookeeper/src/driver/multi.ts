import { DriverFailure } from './driver-failure.js';
import { Acl, Stat } from './driver-types.js';

/** One operation of a transaction (`multi`). Versions of -1 match any version. */
export type MultiOp =
  | {
      type: 'create';
      path: string;
      data: Buffer;
      flags: number;
      acl: readonly Acl[];
      ttlMs?: number;
    }
  | { type: 'delete'; path: string; version: number }
  | { type: 'set'; path: string; data: Buffer; version: number }
  | { type: 'check'; path: string; version: number };

/** The result of one operation of a transaction that was applied. */
export type MultiResult =
  | { type: 'create'; path: string }
  | { type: 'delete' }
  | { type: 'set'; stat: Stat }
  | { type: 'check' };

/**
 * A transaction that applied nothing: `rc` is the first failing operation's code, `index` its
 * position, and `codes` the code of every operation (0 for those that would have succeeded,
 * -2 RUNTIME_INCONSISTENCY for those after the failure, as ZooKeeper reports them).
 */
export class MultiFailure extends DriverFailure {
  constructor(
    rc: number,
    message: string,
    readonly index: number,
    readonly codes: readonly number[],
  ) {
    super(rc, message);
  }
}
