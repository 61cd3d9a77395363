import { Acl } from '../../driver-types.js';
import { JuteWriter, utf8Length } from '../jute/jute-writer.js';
import { CreateFlag, Op, Xid } from '../op-codes.js';
import { aclBytes, OPEN_ACL, writeAcl } from './data-records.js';

/** Request header (xid, type) after the length prefix. */
const HEADER = 8;

function start(payload: number, xid: number, op: number): JuteWriter {
  const writer = JuteWriter.frame(HEADER + payload);
  writer.int(xid);
  writer.int(op);
  return writer;
}

/** A request with no body: ping, closeSession. */
export function encodeHeaderOnly(xid: number, op: number): Buffer {
  return start(0, xid, op).done();
}

/** exists, getData, getChildren2: {path, watch}. */
export function encodePathWatch(xid: number, op: number, path: string, watch: boolean): Buffer {
  const pathBytes = utf8Length(path);
  const writer = start(4 + pathBytes + 1, xid, op);
  writer.string(path, pathBytes);
  writer.bool(watch);
  return writer.done();
}

/** getACL, sync: {path}. */
export function encodePath(xid: number, op: number, path: string): Buffer {
  const pathBytes = utf8Length(path);
  const writer = start(4 + pathBytes, xid, op);
  writer.string(path, pathBytes);
  return writer.done();
}

/** delete, check: {path, version}; addWatch {path, mode}; removeWatches {path, type}. */
export function encodePathInt(xid: number, op: number, path: string, value: number): Buffer {
  const pathBytes = utf8Length(path);
  const writer = start(8 + pathBytes, xid, op);
  writer.string(path, pathBytes);
  writer.int(value);
  return writer.done();
}

export function encodeSetData(xid: number, path: string, data: Buffer, version: number): Buffer {
  const pathBytes = utf8Length(path);
  const writer = start(12 + pathBytes + data.length, xid, Op.SET_DATA);
  writer.string(path, pathBytes);
  writer.buffer(data);
  writer.int(version);
  return writer.done();
}

/** The request type a create with these flags (CreateMode values) and TTL needs. */
export function createOp(flags: number, ttlMs: number | undefined): number {
  if (ttlMs !== undefined || flags === CreateFlag.TTL || flags === CreateFlag.SEQUENTIAL_TTL) {
    return Op.CREATE_TTL;
  }
  return flags === CreateFlag.CONTAINER ? Op.CREATE_CONTAINER : Op.CREATE;
}

/** Size of a CreateRequest / CreateTTLRequest body (no header); fills `lengths`. */
export function createBodyBytes(
  op: number,
  path: string,
  data: Buffer,
  acl: readonly Acl[],
  lengths: number[],
): number {
  const pathBytes = utf8Length(path);
  lengths.push(pathBytes);
  const size = 4 + pathBytes + 4 + data.length + aclBytes(acl, lengths) + 4;
  return op === Op.CREATE_TTL ? size + 8 : size;
}

/** Writes a create body sized by `createBodyBytes`. */
export function writeCreateBody(
  writer: JuteWriter,
  op: number,
  path: string,
  data: Buffer,
  acl: readonly Acl[],
  flags: number,
  ttlMs: number | undefined,
  lengths: readonly number[],
): void {
  writer.string(path, lengths[0]);
  writer.buffer(data);
  writeAcl(writer, acl, lengths, 1);
  writer.int(flags);
  // A TTL create without a TTL: -1, which the server refuses with BAD_ARGUMENTS.
  if (op === Op.CREATE_TTL) writer.long(ttlMs ?? -1);
}

/** An empty ACL list means world:anyone (the server refuses an empty one). */
export function effectiveAcl(acl: readonly Acl[] | undefined): readonly Acl[] {
  return acl === undefined || acl.length === 0 ? OPEN_ACL : acl;
}

export function encodeCreate(
  xid: number,
  op: number,
  path: string,
  data: Buffer,
  acl: readonly Acl[],
  flags: number,
  ttlMs: number | undefined,
): Buffer {
  const lengths: number[] = [];
  const writer = start(createBodyBytes(op, path, data, acl, lengths), xid, op);
  writeCreateBody(writer, op, path, data, acl, flags, ttlMs, lengths);
  return writer.done();
}

export function encodeSetAcl(
  xid: number,
  path: string,
  acl: readonly Acl[],
  version: number,
): Buffer {
  const pathBytes = utf8Length(path);
  const lengths: number[] = [];
  const writer = start(4 + pathBytes + aclBytes(acl, lengths) + 4, xid, Op.SET_ACL);
  writer.string(path, pathBytes);
  writeAcl(writer, acl, lengths);
  writer.int(version);
  return writer.done();
}

/** AuthPacket {type 0, scheme, auth}, xid -4. */
export function encodeAuth(scheme: string, auth: Buffer): Buffer {
  const schemeBytes = utf8Length(scheme);
  const writer = start(4 + 4 + schemeBytes + 4 + auth.length, Xid.AUTH, Op.AUTH);
  writer.int(0);
  writer.string(scheme, schemeBytes);
  writer.buffer(auth);
  return writer.done();
}

export interface ConnectRequest {
  lastZxidHigh: number;
  lastZxidLow: number;
  timeoutMs: number;
  sessionIdHigh: number;
  sessionIdLow: number;
  password: Buffer;
}

/** ConnectRequest (no request header): protocol version 0, never read-only. */
export function encodeConnect(request: ConnectRequest): Buffer {
  const writer = JuteWriter.frame(4 + 8 + 4 + 8 + 4 + request.password.length + 1);
  writer.int(0);
  writer.longParts(request.lastZxidHigh, request.lastZxidLow);
  writer.int(request.timeoutMs);
  writer.longParts(request.sessionIdHigh, request.sessionIdLow);
  writer.buffer(request.password);
  writer.bool(false);
  return writer.done();
}
