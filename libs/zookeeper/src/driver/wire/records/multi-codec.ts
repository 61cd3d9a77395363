import { MultiFailure, MultiOp, MultiResult } from '../../multi.js';
import { ProtocolError } from '../../../errors/driver-errors.js';
import { JuteReader } from '../jute/jute-reader.js';
import { JuteWriter, utf8Length } from '../jute/jute-writer.js';
import { Op, resultText } from '../op-codes.js';
import { readStat } from './data-records.js';
import { createBodyBytes, createOp, effectiveAcl, writeCreateBody } from './requests.js';

/** MultiHeader {type, done, err}. */
const MULTI_HEADER = 9;

/**
 * A multi request (op 14): per operation a MultiHeader {type, false, -1} and its record, then
 * {-1, true, -1}. `serverPath` maps each path (chroot); creates with an empty ACL get world:anyone.
 */
export function encodeMulti(
  xid: number,
  ops: readonly MultiOp[],
  serverPath: (path: string) => string,
): Buffer {
  const paths = ops.map((op) => serverPath(op.path));
  const lengths: number[][] = [];
  let payload = 8 + MULTI_HEADER;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const opLengths: number[] = [];
    lengths.push(opLengths);
    payload += MULTI_HEADER;
    if (op.type === 'create') {
      const type = createOp(op.flags, op.ttlMs);
      payload += createBodyBytes(type, paths[i], op.data, effectiveAcl(op.acl), opLengths);
    } else {
      opLengths.push(utf8Length(paths[i]));
      payload += 4 + opLengths[0] + 4 + (op.type === 'set' ? 4 + op.data.length : 0);
    }
  }
  const writer = JuteWriter.frame(payload);
  writer.int(xid);
  writer.int(Op.MULTI);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const path = paths[i];
    switch (op.type) {
      case 'create': {
        const type = createOp(op.flags, op.ttlMs);
        multiHeader(writer, type, false, -1);
        const acl = effectiveAcl(op.acl);
        writeCreateBody(writer, type, path, op.data, acl, op.flags, op.ttlMs, lengths[i]);
        break;
      }
      case 'delete':
      case 'check':
        multiHeader(writer, op.type === 'delete' ? Op.DELETE : Op.CHECK, false, -1);
        writer.string(path, lengths[i][0]);
        writer.int(op.version);
        break;
      case 'set':
        multiHeader(writer, Op.SET_DATA, false, -1);
        writer.string(path, lengths[i][0]);
        writer.buffer(op.data);
        writer.int(op.version);
        break;
    }
  }
  multiHeader(writer, -1, true, -1);
  return writer.done();
}

function multiHeader(writer: JuteWriter, type: number, done: boolean, err: number): void {
  writer.int(type);
  writer.bool(done);
  writer.int(err);
}

/**
 * The results of a multi reply, or the MultiFailure it means: when any operation failed, every
 * result is an ErrorResult (0 for those that would have succeeded, -2 after the failing one).
 */
export function decodeMultiResponse(
  reader: JuteReader,
  opCount: number,
  clientPath: (serverPath: string) => string,
): MultiResult[] | MultiFailure {
  const results: MultiResult[] = [];
  const codes: number[] = [];
  let failedAt = -1;
  for (;;) {
    const type = reader.int();
    const done = reader.bool();
    reader.int(); // err: repeated in the ErrorResult
    if (done) break;
    if (results.length + codes.length >= opCount) {
      throw new ProtocolError(`a multi reply with more results than its ${opCount} operations`);
    }
    switch (type) {
      case Op.CREATE:
        results.push({ type: 'create', path: clientPath(reader.requiredString('a created path')) });
        break;
      case Op.CREATE2:
        results.push({ type: 'create', path: clientPath(reader.requiredString('a created path')) });
        readStat(reader);
        break;
      case Op.DELETE:
        results.push({ type: 'delete' });
        break;
      case Op.SET_DATA:
        results.push({ type: 'set', stat: readStat(reader) });
        break;
      case Op.CHECK:
        results.push({ type: 'check' });
        break;
      case Op.ERROR: {
        const code = reader.int();
        if (failedAt < 0 && code !== 0) failedAt = results.length + codes.length;
        codes.push(code);
        break;
      }
      default:
        throw new ProtocolError(`unknown operation type ${type} in a multi reply`);
    }
  }
  if (codes.length === 0) {
    if (results.length !== opCount) {
      throw new ProtocolError(`a multi reply with ${results.length} results for ${opCount} ops`);
    }
    return results;
  }
  if (failedAt < 0 || codes.length !== opCount || results.length > 0) {
    throw new ProtocolError('a multi reply mixing error and success results');
  }
  const rc = codes[failedAt];
  return new MultiFailure(rc, resultText(rc), failedAt, codes);
}
