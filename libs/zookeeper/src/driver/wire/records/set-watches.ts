import { JuteWriter, utf8Length } from '../jute/jute-writer.js';
import { Op, Xid } from '../op-codes.js';

/** The watches of a session, by kind, as full server paths (chroot included). */
export interface WatchLists {
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
  persistent: readonly string[];
  persistentRecursive: readonly string[];
}

/** Like ClientCnxn's SET_WATCHES_MAX_LENGTH: each packet carries below 128 KB of paths. */
export const SET_WATCHES_MAX_BYTES = 128 * 1024;

const KINDS = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;

/**
 * SetWatches (101) packets, or SetWatches2 (105) for those that carry persistent watches, with
 * relativeZxid = the last zxid seen; split so that each packet's paths stay below `maxBytes`
 * (a single longer path gets a packet of its own). Xid -8. Empty lists give no packet.
 */
export function encodeSetWatches(
  zxidHigh: number,
  zxidLow: number,
  lists: WatchLists,
  maxBytes = SET_WATCHES_MAX_BYTES,
): Buffer[] {
  const packets: Buffer[] = [];
  let batch = emptyBatch();
  let batchBytes = 0;
  for (let kind = 0; kind < KINDS.length; kind++) {
    for (const path of lists[KINDS[kind]]) {
      const bytes = utf8Length(path);
      if (batchBytes > 0 && batchBytes + 4 + bytes > maxBytes) {
        packets.push(encodeBatch(zxidHigh, zxidLow, batch));
        batch = emptyBatch();
        batchBytes = 0;
      }
      batch.paths[kind].push(path);
      batch.lengths[kind].push(bytes);
      batchBytes += 4 + bytes;
    }
  }
  if (batchBytes > 0) packets.push(encodeBatch(zxidHigh, zxidLow, batch));
  return packets;
}

interface Batch {
  paths: string[][];
  lengths: number[][];
}

function emptyBatch(): Batch {
  return { paths: KINDS.map(() => []), lengths: KINDS.map(() => []) };
}

function encodeBatch(zxidHigh: number, zxidLow: number, batch: Batch): Buffer {
  // Servers before 3.6 know only SetWatches: use it whenever no persistent watch is carried.
  const kinds = batch.paths[3].length + batch.paths[4].length > 0 ? 5 : 3;
  let payload = 8 + 8;
  for (let kind = 0; kind < kinds; kind++) {
    payload += 4;
    for (const length of batch.lengths[kind]) payload += 4 + length;
  }
  const writer = JuteWriter.frame(payload);
  writer.int(Xid.SET_WATCHES);
  writer.int(kinds === 5 ? Op.SET_WATCHES2 : Op.SET_WATCHES);
  writer.longParts(zxidHigh, zxidLow);
  for (let kind = 0; kind < kinds; kind++) {
    writer.stringVector(batch.paths[kind], batch.lengths[kind]);
  }
  return writer.done();
}
