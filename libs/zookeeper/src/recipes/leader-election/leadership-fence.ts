import { Transaction } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { CapabilityMissingError, TransactionFailedError } from '../../errors/driver-errors.js';
import {
  BadVersionError,
  NoNodeError,
  SessionExpiredError,
} from '../../errors/zookeeper-errors.js';
import { LockStateError } from '../lock-internals/index.js';

/**
 * What identifies one leadership term: the leader's own election node and its facts, read when
 * the term began. `czxid` grows from term to term (a successor's node is created after its
 * predecessor's), so it doubles as an epoch number a resource can store and compare.
 */
export interface FencingToken {
  /** The leader's election node (ephemeral: it goes with the leader's session). */
  readonly path: string;
  /** The zxid that created the node: increases with every new leader on this election. */
  readonly czxid: number;
  /** The node's data version; the fence checks the node is still at it. */
  readonly version: number;
  /** The session that owns the node (hex). */
  readonly sessionId: string;
}

/** `fenced()` was asked of a candidate that does not lead (as far as it knows now). */
export class NotLeaderError extends LockStateError {
  constructor(readonly electionPath: string) {
    super(
      `election ${electionPath}: not the leader, so no fenced write (wait for isLeader$ to be true)`,
    );
  }
}

/**
 * Adds the fence to `tx`: a `check` of the leader's own node at the token's version. The
 * transaction then commits only while that node exists, i.e. while the session that won the
 * election is alive; a deposed leader's transaction fails whole (TransactionFailedError whose
 * `failure` is a NoNodeError on the token's path) and writes nothing.
 */
export function addFence(
  connection: ZookeeperConnection,
  electionPath: string,
  token: FencingToken | undefined,
  tx: Transaction,
): Transaction {
  if (!connection.capabilities.multi)
    throw new CapabilityMissingError('multi', connection.driver, 'LeaderElection.fenced');
  if (!token) throw new NotLeaderError(electionPath);
  return tx.check(token.path, token.version);
}

/**
 * Whether `error` means "no longer the leader" rather than a failure of the guarded operations:
 * the fence's check failed (the node is gone or changed), the session ended, or the candidate
 * knew it was not leading.
 */
export function isDeposedError(error: unknown, electionPath: string): boolean {
  if (error instanceof NotLeaderError || error instanceof SessionExpiredError) return true;
  if (!(error instanceof TransactionFailedError)) return false;
  const { failure } = error;
  // A fence names one of this election's nodes (a term's token may be gone by now).
  const onFence = failure.path?.startsWith(`${electionPath === '/' ? '' : electionPath}/`);
  return !!onFence && (failure instanceof NoNodeError || failure instanceof BadVersionError);
}
