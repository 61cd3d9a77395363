import fc from 'fast-check';
import { ProtocolError, type Stat } from 'nestjs-zookeeper';
import { MultiFailure } from '../../../libs/zookeeper/src/driver/multi.js';
import { errorText } from '../../support/fuzz.js';

// Shared by the wire decoder's property-based tests (`wire-*.fuzz.spec.ts`): everything the wire
// driver decodes from a server (frames, Jute records, replies of every kind, the handshake and
// watch events) is checked against a reference encoder and models built here. Valid records
// round-trip exactly; any truncation, mutation, oversized or absurd length ends in a ProtocolError
// (or, for a frame above the limit, a skipped frame): never a RangeError or TypeError, never a
// value read from bytes past the record's end.

// ---------------------------------------------------------------------------------------------
// A reference encoder, independent of the driver's JuteWriter.

export class Bytes {
  private readonly parts: Buffer[] = [];

  int(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value | 0);
    this.parts.push(b);
    return this;
  }

  long(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, value));
    this.parts.push(b);
    return this;
  }

  bool(value: boolean): this {
    this.parts.push(Buffer.from([value ? 1 : 0]));
    return this;
  }

  buffer(value: Buffer | null): this {
    if (value === null) return this.int(-1);
    this.int(value.length);
    this.parts.push(value);
    return this;
  }

  string(value: string | null): this {
    return this.buffer(value === null ? null : Buffer.from(value, 'utf8'));
  }

  raw(value: Buffer): this {
    this.parts.push(value);
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** What a string becomes on the wire and back (lone surrogates turn into U+FFFD). */
export const wireText = (value: string): string => Buffer.from(value, 'utf8').toString('utf8');

export interface StatModel {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  owner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const anyLong = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n }),
  fc.constantFrom(0n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)),
);
export const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
export const statModel: fc.Arbitrary<StatModel> = fc.record({
  czxid: anyLong,
  mzxid: anyLong,
  ctime: anyLong,
  mtime: anyLong,
  version: int32,
  cversion: int32,
  aversion: int32,
  owner: fc.oneof(fc.constant(0n), anyLong),
  dataLength: int32,
  numChildren: int32,
  pzxid: anyLong,
});

export function writeStat(bytes: Bytes, stat: StatModel): Bytes {
  return bytes
    .long(stat.czxid)
    .long(stat.mzxid)
    .long(stat.ctime)
    .long(stat.mtime)
    .int(stat.version)
    .int(stat.cversion)
    .int(stat.aversion)
    .long(stat.owner)
    .int(stat.dataLength)
    .int(stat.numChildren)
    .long(stat.pzxid);
}

/** The Stat the driver must give for `stat` (longs as the nearest number, owner as hex). */
export function expectedStat(stat: StatModel): Stat {
  return {
    czxid: Number(stat.czxid),
    mzxid: Number(stat.mzxid),
    pzxid: Number(stat.pzxid),
    ctime: new Date(Number(stat.ctime)),
    mtime: new Date(Number(stat.mtime)),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: BigInt.asUintN(64, stat.owner).toString(16),
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
  };
}

/** Dates as their time (an invalid Date, from a time beyond its range, as NaN): comparable. */
export function comparable(value: unknown): unknown {
  if (value instanceof Date) return { time: value.getTime() };
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (value instanceof MultiFailure) {
    return { rc: value.rc, index: value.index, codes: [...value.codes], message: value.message };
  }
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}

export const bytesOf = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));

/** Decodes; a ProtocolError is an outcome, any other throw fails the property. */
export function outcome(fn: () => unknown): unknown {
  try {
    return { value: comparable(fn()) };
  } catch (error) {
    if (error instanceof ProtocolError) return { protocolError: true };
    throw new Error(`unexpected ${errorText(error)}`, { cause: error });
  }
}

// Damage done to a valid record.
export type Mutation =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'int'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'remove'; at: number; count: number };

const position = fc.nat(10_000);
const extremeInt = fc.constantFrom(-0x80000000, -2, -1, 0, 1, 36, 0x7fffffff, 1_000_000, 65_536);
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: position,
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ op: fc.constant('int' as const), at: position, value: fc.oneof(extremeInt, int32) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({
    op: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({
    op: fc.constant('remove' as const),
    at: position,
    count: fc.integer({ min: 1, max: 12 }),
  }),
);

export function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : m.at % (buf.length + 1);
    switch (m.op) {
      case 'flip':
        if (at < buf.length) buf[at] ^= m.mask;
        break;
      case 'int':
        if (at + 4 <= buf.length) buf.writeInt32BE(m.value, at);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
        break;
      case 'remove':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]);
        break;
    }
  }
  return buf;
}

export function lengthPrefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(length);
  return b;
}
