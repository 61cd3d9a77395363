import { randomUUID } from 'node:crypto';
import { joinPath, nodeName } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { isConnectionProblem } from '../../errors/zookeeper.error.js';
import { ConnectionClosedError } from '../../errors/library-errors.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { sleep } from '../../internal/sleep.js';
import { parseBatchEntry } from '../shared/entry-names.js';
import { SegmentedFolder, segmentIndexOf } from '../shared/segmented-folder.js';
import { AppendOutcomeUnknownError, NotAppendedError } from '../shared/messaging-errors.js';
import { appendLogBatch } from './log-batch-op.js';
import type { TransactionFence } from './relay-types.js';

const SEARCH_RETRY_MS = 500;

/** One message handed to a relay to append without the source (LogRelay.append). */
export interface DirectAppend {
  /** In the log's form (the relay's transform applied). */
  readonly payload: Buffer;
  resolve(): void;
  reject(error: unknown): void;
}

/** Direct appends waiting for the relay's next pass, in call order. */
export class DirectAppends {
  private waiting: DirectAppend[] = [];

  get size(): number {
    return this.waiting.length;
  }

  /** Resolves once `payload` is in the log; rejects with why it is not (see LogRelay.append). */
  add(payload: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiting.push({ payload, resolve, reject }));
  }

  /** Every waiting append, in order; they are the caller's to settle or put back. */
  take(): DirectAppend[] {
    const taken = this.waiting;
    this.waiting = [];
    return taken;
  }

  /** Appends taken and not settled go back in front of the ones added meanwhile. */
  putBack(appends: readonly DirectAppend[]): void {
    if (appends.length > 0) this.waiting = [...appends, ...this.waiting];
  }

  rejectAll(error: unknown): void {
    for (const append of this.take()) append.reject(error);
  }
}

/** What a direct step needs from its relay. */
export interface DirectStepContext {
  readonly connection: ZookeeperConnection;
  readonly log: SegmentedFolder;
  readonly fence: TransactionFence;
  /** The sequence of the newest log batch the relay appended before this step; -1 if none. */
  readonly lastSequence: number;
  /** Resolves when the relay gives up on lost replies (a while after it was stopped). */
  readonly abandoned: Promise<void>;
}

/**
 * Appends one log batch of `payloads` in one fenced transaction and resolves with where it
 * went. The batch has a protected name (`_c_<uuid>-`): when the reply is lost, the segment is
 * synced and searched for it, so the caller learns whether it applied, and a message is never
 * both in the log and reported as not appended. Rejects with NotAppendedError when the batch is
 * not in the log (the fence refused it, the server refused it, or the search did not find it
 * while an older batch of the relay's was still there, so retention cannot have removed it),
 * or AppendOutcomeUnknownError when the search cannot tell: the relay gave up first, or
 * retention may have deleted the batch (every subscriber read it) before the search.
 */
export async function writeDirectBatch(
  context: DirectStepContext,
  payloads: readonly Buffer[],
): Promise<{ path: string; segment: number }> {
  const createId = randomUUID();
  let folder: string | undefined;
  try {
    const { value: results, segment } = await context.log.writeTo((into) => {
      folder = into;
      const tx = context.fence.fenced(context.connection.transaction());
      appendLogBatch(tx, into, payloads, createId);
      return tx.commit();
    });
    const created = results.find((result) => result.type === 'create');
    return { path: created?.type === 'create' ? created.path : '?', segment };
  } catch (error) {
    const outcomeUnknown = isConnectionProblem(error) || error instanceof ConnectionClosedError;
    if (folder === undefined || !outcomeUnknown) {
      const deposed = context.fence.isDeposed?.(error) ?? false;
      throw new NotAppendedError(deposed ? 'deposed' : 'failed', error);
    }
    const segment = segmentIndexOf(context.log.base, nodeName(folder)) ?? 0;
    const searching = findCreated(context, folder, segment, createId, error);
    searching.catch(() => undefined);
    const found = await Promise.race([
      searching,
      context.abandoned.then(() => Promise.reject(new AppendOutcomeUnknownError(error))),
    ]);
    if (!found) throw new NotAppendedError('failed', error);
    return { path: found, segment };
  }
}

/**
 * The batch created with `createId` in segment `segment` at `folder`, after a lost reply;
 * undefined when it was not created.
 */
async function findCreated(
  context: DirectStepContext,
  folder: string,
  segment: number,
  createId: string,
  lostReply: unknown,
): Promise<string | undefined> {
  const prefix = `_c_${createId}-`;
  let abandoned = false;
  void context.abandoned.then(() => (abandoned = true));
  for (;;) {
    if (abandoned) throw new AppendOutcomeUnknownError(lostReply);
    let names: string[];
    try {
      // The session never saw the transaction's zxid: the server it is on now may lag behind.
      await context.connection.sync(folder);
      names = await context.connection.getChildren(folder);
    } catch (error) {
      // A segment removed meanwhile was emptied by retention: it may have held the batch.
      if (error instanceof NoNodeError || error instanceof ConnectionClosedError) {
        throw new AppendOutcomeUnknownError(lostReply);
      }
      await sleep(SEARCH_RETRY_MS);
      continue;
    }
    const match = names.find((name) => name.startsWith(prefix));
    if (match !== undefined) return joinPath(folder, match);
    // Retention deletes the oldest batches first: while one at or before the relay's last
    // append is still there, the batch (which would come after it) was never deleted.
    const older = names.some(
      (name) => (parseBatchEntry(name, segment)?.sequence ?? Infinity) <= context.lastSequence,
    );
    if (!older) throw new AppendOutcomeUnknownError(lostReply);
    return undefined;
  }
}
