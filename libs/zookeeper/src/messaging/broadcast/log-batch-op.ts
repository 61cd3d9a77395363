import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { Transaction } from '../../connection/transaction.js';
import { batchNamePrefix } from '../shared/entry-names.js';
import {
  BATCH_HEADER_BYTES,
  encodeBatch,
  MAX_BATCH_MESSAGES,
  MESSAGE_OVERHEAD_BYTES,
} from '../shared/message-batch.js';

/**
 * Adds to `tx` the append of one log batch holding `payloads` (in order): a persistent
 * sequential `<log>/m<count>-<seq>` znode in the batch format every BroadcastLog reads, the same
 * entry a `publish` writes. Unprotected unless `createId` is given: inside a transaction the
 * other operations (e.g. the delete of what was relayed) make a retry safe; a transaction with no
 * such operation names its batch `_c_<createId>-…` so a lost reply can be looked up.
 */
export function appendLogBatch(
  tx: Transaction,
  logFolder: string,
  payloads: readonly Buffer[],
  createId?: string,
) {
  const name = batchNamePrefix(payloads.length);
  const path = joinPath(logFolder, createId === undefined ? name : `_c_${createId}-${name}`);
  return tx.create(path, encodeBatch(payloads), { mode: CreateMode.PERSISTENT_SEQUENTIAL });
}

/** The size of the batch znode `payloads` would make. */
export function logBatchBytes(payloads: readonly Buffer[]): number {
  return payloads.reduce(
    (total, payload) => total + MESSAGE_OVERHEAD_BYTES + payload.length,
    BATCH_HEADER_BYTES,
  );
}

/** Whether one more payload may join a batch of `count` payloads. */
export function batchHasRoom(count: number): boolean {
  return count < MAX_BATCH_MESSAGES;
}
