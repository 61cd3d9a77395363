import { CorruptBatchError } from './messaging-errors.js';

/**
 * The bytes of one batch znode: a 4-byte magic, a 4-byte message count, then each message as a
 * 4-byte length and its serialized bytes. Length-prefixed rather than JSON so payloads of any
 * serializer (binary included) travel untouched and a batch can be split without re-encoding.
 */
const MAGIC = Buffer.from('ZMB1', 'latin1');
export const BATCH_HEADER_BYTES = 8;
export const MESSAGE_OVERHEAD_BYTES = 4;

/**
 * ZooKeeper refuses requests above jute.maxbuffer (1 MiB by default); the path, ACL and
 * framing of a create request need some of it, hence the margin.
 */
export const DEFAULT_MAX_BATCH_BYTES = 900_000;

/**
 * Messages per batch are capped so that `sequence * MAX_BATCH_MESSAGES + index` stays an exact
 * JavaScript number for every 31-bit ZooKeeper sequence number (2^31 * 1e5 < 2^53).
 */
export const MAX_BATCH_MESSAGES = 100_000;

export function encodeBatch(payloads: readonly Buffer[]): Buffer {
  const size = payloads.reduce((total, p) => total + MESSAGE_OVERHEAD_BYTES + p.length, 0);
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + size);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(payloads.length, 4);
  let at = BATCH_HEADER_BYTES;
  for (const payload of payloads) {
    out.writeUInt32BE(payload.length, at);
    payload.copy(out, at + MESSAGE_OVERHEAD_BYTES);
    at += MESSAGE_OVERHEAD_BYTES + payload.length;
  }
  return out;
}

export function decodeBatch(bytes: Buffer, path: string): Buffer[] {
  if (bytes.length < BATCH_HEADER_BYTES || !bytes.subarray(0, 4).equals(MAGIC)) {
    throw new CorruptBatchError(path, 'missing batch header');
  }
  const count = bytes.readUInt32BE(4);
  const payloads: Buffer[] = [];
  let at = BATCH_HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    if (at + MESSAGE_OVERHEAD_BYTES > bytes.length) break;
    const length = bytes.readUInt32BE(at);
    const end = at + MESSAGE_OVERHEAD_BYTES + length;
    if (end > bytes.length) break;
    payloads.push(bytes.subarray(at + MESSAGE_OVERHEAD_BYTES, end));
    at = end;
  }
  if (payloads.length !== count) {
    throw new CorruptBatchError(path, `header says ${count} messages, found ${payloads.length}`);
  }
  return payloads;
}
