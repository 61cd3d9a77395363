import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DriverFailure } from '../../../libs/zookeeper/src/driver/driver-failure.js';
import { DriverSession } from '../../../libs/zookeeper/src/driver/driver-session.interface.js';
import { Acl, Stat } from '../../../libs/zookeeper/src/driver/driver-types.js';
import { MultiFailure, MultiResult } from '../../../libs/zookeeper/src/driver/multi.js';
import {
  corruptFrameLength,
  FrameReader,
} from '../../../libs/zookeeper/src/driver/wire/frame-reader.js';
import { JuteReader } from '../../../libs/zookeeper/src/driver/wire/jute/jute-reader.js';
import { Op, resultText } from '../../../libs/zookeeper/src/driver/wire/op-codes.js';
import { ReplyKind } from '../../../libs/zookeeper/src/driver/wire/pending-queue.js';
import { decodeReply } from '../../../libs/zookeeper/src/driver/wire/records/replies.js';
import {
  decodeConnectResponse,
  decodeWatcherEvent,
} from '../../../libs/zookeeper/src/driver/wire/records/responses.js';
import {
  FrameTooLargeError,
  ProtocolError,
} from '../../../libs/zookeeper/src/errors/driver-errors.js';
import { ZookeeperError } from '../../../libs/zookeeper/src/errors/zookeeper.error.js';
import { errorText, fuzzParams } from '../../support/fuzz.js';
import { FakeConnection, FakeRequest, FakeZkServer } from './fake-zk-server.js';
import { WireSessions } from './wire-helpers.js';

// Property-based tests of everything the wire driver decodes from a server: frames, Jute records,
// replies of every kind, the handshake and watch events. Valid records round-trip exactly; any
// truncation, mutation, oversized or absurd length ends in a ProtocolError (or, for a frame above
// the limit, a skipped frame): never a RangeError or TypeError, never a value read from bytes past
// the record's end. Then whole sessions against a fake server that answers with such bytes: every
// request settles (no hang) with its own reply or a typed error, and the session serves again.

const identity = (path: string): string => path;

// ---------------------------------------------------------------------------------------------
// A reference encoder, independent of the driver's JuteWriter.

class Bytes {
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
const wireText = (value: string): string => Buffer.from(value, 'utf8').toString('utf8');

interface StatModel {
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

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const anyLong = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n }),
  fc.constantFrom(0n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)),
);
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const statModel: fc.Arbitrary<StatModel> = fc.record({
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

function writeStat(bytes: Bytes, stat: StatModel): Bytes {
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
function expectedStat(stat: StatModel): Stat {
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
function comparable(value: unknown): unknown {
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

type MultiModel =
  | {
      ok: true;
      results: Array<
        | { type: 'create'; path: string }
        | { type: 'create2'; path: string; stat: StatModel }
        | { type: 'delete' }
        | { type: 'set'; stat: StatModel }
        | { type: 'check' }
      >;
    }
  | { ok: false; count: number; failedAt: number; rc: number };

type ReplyModel =
  | { kind: 'VOID' }
  | { kind: 'PATH'; path: string }
  | { kind: 'PATH_STAT'; path: string; stat: StatModel }
  | { kind: 'STAT'; stat: StatModel }
  | { kind: 'DATA'; data: Buffer | null; stat: StatModel }
  | { kind: 'CHILDREN'; children: string[]; stat: StatModel }
  | { kind: 'ACL'; acl: Acl[]; stat: StatModel }
  | { kind: 'MULTI'; multi: MultiModel };

const bytesOf = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const multiResult = fc.oneof(
  fc.record({ type: fc.constant('create' as const), path: text }),
  fc.record({ type: fc.constant('create2' as const), path: text, stat: statModel }),
  fc.constant({ type: 'delete' as const }),
  fc.record({ type: fc.constant('set' as const), stat: statModel }),
  fc.constant({ type: 'check' as const }),
);
const multiModel: fc.Arbitrary<MultiModel> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), results: fc.array(multiResult, { maxLength: 6 }) }),
  fc
    .record({
      count: fc.integer({ min: 1, max: 6 }),
      failedAt: fc.nat(5),
      rc: int32.filter((rc) => rc !== 0),
    })
    .map(({ count, failedAt, rc }) => ({
      ok: false as const,
      count,
      failedAt: failedAt % count,
      rc,
    })),
);
const replyModel: fc.Arbitrary<ReplyModel> = fc.oneof(
  fc.constant({ kind: 'VOID' as const }),
  fc.record({ kind: fc.constant('PATH' as const), path: text }),
  fc.record({ kind: fc.constant('PATH_STAT' as const), path: text, stat: statModel }),
  fc.record({ kind: fc.constant('STAT' as const), stat: statModel }),
  fc.record({
    kind: fc.constant('DATA' as const),
    data: fc.option(bytesOf(64), { nil: null }),
    stat: statModel,
  }),
  fc.record({
    kind: fc.constant('CHILDREN' as const),
    children: fc.array(text, { maxLength: 8 }),
    stat: statModel,
  }),
  fc.record({
    kind: fc.constant('ACL' as const),
    acl: fc.array(fc.record({ perms: int32, scheme: text, id: text }), { maxLength: 4 }),
    stat: statModel,
  }),
  fc.record({ kind: fc.constant('MULTI' as const), multi: multiModel }),
);

function multiOpCount(multi: MultiModel): number {
  return multi.ok ? multi.results.length : multi.count;
}

function encodeReply(model: ReplyModel): Buffer {
  const bytes = new Bytes();
  switch (model.kind) {
    case 'VOID':
      break;
    case 'PATH':
      bytes.string(model.path);
      break;
    case 'PATH_STAT':
      writeStat(bytes.string(model.path), model.stat);
      break;
    case 'STAT':
      writeStat(bytes, model.stat);
      break;
    case 'DATA':
      writeStat(bytes.buffer(model.data), model.stat);
      break;
    case 'CHILDREN':
      bytes.int(model.children.length);
      for (const child of model.children) bytes.string(child);
      writeStat(bytes, model.stat);
      break;
    case 'ACL':
      bytes.int(model.acl.length);
      for (const entry of model.acl) bytes.int(entry.perms).string(entry.scheme).string(entry.id);
      writeStat(bytes, model.stat);
      break;
    case 'MULTI':
      encodeMultiReply(bytes, model.multi);
      break;
  }
  return bytes.done();
}

function encodeMultiReply(bytes: Bytes, multi: MultiModel): void {
  const header = (type: number, err: number) => bytes.int(type).bool(false).int(err);
  if (multi.ok) {
    for (const result of multi.results) {
      switch (result.type) {
        case 'create':
          header(Op.CREATE, 0).string(result.path);
          break;
        case 'create2':
          writeStat(header(Op.CREATE2, 0).string(result.path), result.stat);
          break;
        case 'delete':
          header(Op.DELETE, 0);
          break;
        case 'set':
          writeStat(header(Op.SET_DATA, 0), result.stat);
          break;
        case 'check':
          header(Op.CHECK, 0);
          break;
      }
    }
  } else {
    for (const code of multiCodes(multi)) header(Op.ERROR, code).int(code);
  }
  bytes.int(-1).bool(true).int(-1);
}

function multiCodes(multi: Extract<MultiModel, { ok: false }>): number[] {
  return Array.from({ length: multi.count }, (_, i) =>
    i < multi.failedAt ? 0 : i === multi.failedAt ? multi.rc : -2,
  );
}

function expectedReply(model: ReplyModel): unknown {
  switch (model.kind) {
    case 'VOID':
      return undefined;
    case 'PATH':
    case 'PATH_STAT':
      return wireText(model.path);
    case 'STAT':
      return expectedStat(model.stat);
    case 'DATA':
      return { data: model.data ?? Buffer.alloc(0), stat: expectedStat(model.stat) };
    case 'CHILDREN':
      return { children: model.children.map(wireText), stat: expectedStat(model.stat) };
    case 'ACL':
      return {
        acl: model.acl.map((e) => ({
          perms: e.perms,
          scheme: wireText(e.scheme),
          id: wireText(e.id),
        })),
        stat: expectedStat(model.stat),
      };
    case 'MULTI': {
      const multi = model.multi;
      if (!multi.ok) {
        return new MultiFailure(multi.rc, resultText(multi.rc), multi.failedAt, multiCodes(multi));
      }
      return multi.results.map((result): MultiResult => {
        switch (result.type) {
          case 'create':
          case 'create2':
            return { type: 'create', path: wireText(result.path) };
          case 'set':
            return { type: 'set', stat: expectedStat(result.stat) };
          default:
            return { type: result.type };
        }
      });
    }
  }
}

function decode(model: ReplyModel, buf: Buffer, start = 0, end = buf.length, opCount?: number) {
  const reader = new JuteReader(buf, start, end);
  const count = opCount ?? (model.kind === 'MULTI' ? multiOpCount(model.multi) : 0);
  const value = decodeReply(ReplyKind[model.kind], reader, count, identity);
  return { value, rest: reader.remaining };
}

/** Decodes; a ProtocolError is an outcome, any other throw fails the property. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: comparable(fn()) };
  } catch (error) {
    if (error instanceof ProtocolError) return { protocolError: true };
    throw new Error(`unexpected ${errorText(error)}`, { cause: error });
  }
}

// Damage done to a valid record.
type Mutation =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'int'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'remove'; at: number; count: number };

const position = fc.nat(10_000);
const extremeInt = fc.constantFrom(-0x80000000, -2, -1, 0, 1, 36, 0x7fffffff, 1_000_000, 65_536);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
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

describe('wire decoder fuzzing: replies', () => {
  it('a valid reply of any kind decodes to exactly what was encoded, and to its end', () => {
    fc.assert(
      fc.property(replyModel, (model) => {
        const { value, rest } = decode(model, encodeReply(model));
        expect(comparable(value)).toEqual(comparable(expectedReply(model)));
        expect(rest).toBe(0);
      }),
      fuzzParams(500),
    );
  });

  it('every strict prefix of a reply is a ProtocolError: never a partial value', () => {
    fc.assert(
      fc.property(
        replyModel.filter((m) => m.kind !== 'VOID'),
        fc.nat(),
        (model, cut) => {
          const full = encodeReply(model);
          const end = cut % full.length;
          // The bytes after `end` are there (the next frame's): the decoder must not read them.
          expect(() => decode(model, full, 0, end)).toThrow(ProtocolError);
        },
      ),
      fuzzParams(500),
    );
  });

  it('a reply inside a larger buffer decodes the same as alone: nothing is read past its end', () => {
    fc.assert(
      fc.property(
        replyModel,
        fc.array(mutation, { maxLength: 3 }),
        bytesOf(64),
        bytesOf(64),
        (model, mutations, before, after) => {
          const body = mutate(encodeReply(model), mutations);
          const alone = outcome(() => decode(model, Buffer.from(body)).value);
          const framed = Buffer.concat([before, body, after]);
          const inside = outcome(
            () => decode(model, framed, before.length, before.length + body.length).value,
          );
          expect(inside).toEqual(alone);
        },
      ),
      fuzzParams(500),
    );
  });

  it('damaged replies (flipped bits, extreme lengths and counts, cuts, inserts) decode or throw ProtocolError', () => {
    fc.assert(
      fc.property(
        replyModel,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -1, max: 8 }),
        (model, mutations, opCountDelta) => {
          const body = mutate(encodeReply(model), mutations);
          const count = model.kind === 'MULTI' ? multiOpCount(model.multi) + opCountDelta : 0;
          outcome(() => decode(model, body, 0, body.length, Math.max(0, count)));
          // The same bytes read as every other kind of reply.
          for (const kind of Object.values(ReplyKind)) {
            outcome(() => decodeReply(kind, new JuteReader(body), 3, identity));
          }
        },
      ),
      fuzzParams(700),
    );
  });

  it('a multi reply that does not match its operations is a ProtocolError, not a short result', () => {
    fc.assert(
      fc.property(
        multiModel,
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (multi, delta, more) => {
          const body = encodeReply({ kind: 'MULTI', multi });
          const expected = multiOpCount(multi);
          const opCount = more ? expected + delta : expected - delta;
          fc.pre(opCount >= 0);
          expect(() => decode({ kind: 'MULTI', multi }, body, 0, body.length, opCount)).toThrow(
            ProtocolError,
          );
        },
      ),
      fuzzParams(300),
    );
  });
});

describe('wire decoder fuzzing: handshake and watch events', () => {
  const connectResponse = fc.record({
    timeoutMs: int32,
    sessionId: anyLong,
    password: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    readOnly: fc.option(fc.boolean(), { nil: undefined }),
  });

  it('a ConnectResponse (with or without readOnly) decodes exactly; damaged, a ProtocolError', () => {
    fc.assert(
      fc.property(connectResponse, fc.array(mutation, { maxLength: 3 }), (response, mutations) => {
        const bytes = new Bytes()
          .int(0)
          .int(response.timeoutMs)
          .long(response.sessionId)
          .buffer(Buffer.from(response.password));
        if (response.readOnly !== undefined) bytes.bool(response.readOnly);
        const body = bytes.done();
        const decoded = decodeConnectResponse(new JuteReader(body));
        const id = BigInt.asUintN(64, response.sessionId);
        expect(decoded).toEqual({
          protocolVersion: 0,
          timeoutMs: response.timeoutMs,
          sessionIdHigh: Number(BigInt.asIntN(32, id >> 32n)),
          sessionIdLow: Number(id & 0xffffffffn),
          password: Buffer.from(response.password),
          readOnly: response.readOnly ?? false,
        });
        outcome(() => decodeConnectResponse(new JuteReader(mutate(body, mutations))));
      }),
      fuzzParams(400),
    );
  });

  it('a watch event decodes exactly (a null path as ""); damaged, a ProtocolError', () => {
    fc.assert(
      fc.property(
        int32,
        int32,
        fc.option(text, { nil: null }),
        fc.array(mutation, { maxLength: 3 }),
        (type, state, path, mutations) => {
          const body = new Bytes().int(type).int(state).string(path).done();
          expect(decodeWatcherEvent(new JuteReader(body))).toEqual({
            type,
            state,
            path: path === null ? '' : wireText(path),
          });
          outcome(() => decodeWatcherEvent(new JuteReader(mutate(body, mutations))));
        },
      ),
      fuzzParams(400),
    );
  });

  it('random bytes as any record: decoded or a ProtocolError', () => {
    fc.assert(
      fc.property(bytesOf(200), (bytes) => {
        outcome(() => decodeConnectResponse(new JuteReader(bytes)));
        outcome(() => decodeWatcherEvent(new JuteReader(bytes)));
        const reader = new JuteReader(bytes);
        // Read records of every type until the bytes run out: only ProtocolError ends it.
        outcome(() => {
          for (let i = 0; reader.remaining > 0; i++) {
            const step = i % 6;
            if (step === 0) reader.int();
            else if (step === 1) reader.long();
            else if (step === 2) reader.string();
            else if (step === 3) reader.buffer();
            else if (step === 4) reader.stringVector();
            else reader.bool();
          }
        });
        expect(reader.pos).toBeLessThanOrEqual(bytes.length);
      }),
      fuzzParams(700),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The frame reader against a model of the stream.

type StreamItem =
  | { type: 'frame'; payload: Buffer }
  | { type: 'oversized'; payload: Buffer }
  | { type: 'corrupt'; length: number; junk: Buffer };

type FrameEvent = { frame: string } | { oversized: [number, number] } | 'protocol-error';

function streamItem(limit: number): fc.Arbitrary<StreamItem> {
  const corruptAbove = corruptFrameLength(limit);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ type: fc.constant('frame' as const), payload: bytesOf(limit) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constant('oversized' as const),
        payload: fc
          .uint8Array({ minLength: limit + 1, maxLength: limit + 300 })
          .map((b) => Buffer.from(b)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('corrupt' as const),
        length: fc.oneof(
          fc.integer({ min: -0x80000000, max: -1 }),
          fc.integer({ min: corruptAbove + 1, max: 0x7fffffff }),
        ),
        junk: bytesOf(40),
      }),
    },
  );
}

function lengthPrefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(length);
  return b;
}

const frameStream = fc.integer({ min: 4, max: 64 }).chain((limit) =>
  fc.record({
    limit: fc.constant(limit),
    items: fc.array(streamItem(limit), { maxLength: 12 }),
    /** A last frame cut short: its first `tail` bytes arrive, the stream then ends. */
    tail: fc.nat(limit + 3),
    cuts: fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 16 }),
  }),
);

describe('wire decoder fuzzing: frame reader', () => {
  it('however a stream of frames, oversized and corrupt ones is cut, the events are the model’s', () => {
    fc.assert(
      fc.property(frameStream, ({ limit, items, tail, cuts }) => {
        const expected: FrameEvent[] = [];
        const parts: Buffer[] = [];
        let corrupt = false;
        for (const item of items) {
          if (item.type === 'corrupt') {
            parts.push(lengthPrefix(item.length), item.junk);
            if (!corrupt) expected.push('protocol-error');
            corrupt = true;
            continue;
          }
          parts.push(lengthPrefix(item.payload.length), item.payload);
          if (corrupt) continue;
          expected.push(
            item.type === 'frame'
              ? { frame: item.payload.toString('hex') }
              : { oversized: [item.payload.length, item.payload.readInt32BE(0)] },
          );
        }
        const last = Buffer.concat([lengthPrefix(limit), Buffer.alloc(limit, 7)]);
        parts.push(last.subarray(0, tail % last.length));
        const stream = Buffer.concat(parts);

        const events: FrameEvent[] = [];
        const reader = new FrameReader(limit, {
          frame: (buf, start, end) => events.push({ frame: buf.toString('hex', start, end) }),
          oversized: (bytes, xid) => events.push({ oversized: [bytes, xid] }),
        });
        let pos = 0;
        for (let i = 0; pos < stream.length; i++) {
          const size = cuts[i % cuts.length];
          try {
            reader.push(stream.subarray(pos, pos + size));
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
            events.push('protocol-error');
          }
          pos += size;
        }
        expect(events).toEqual(expected);
        if (!corrupt) expect(reader.bufferedBytes > 0).toBe(tail % last.length > 0);
      }),
      fuzzParams(600),
    );
  });

  it('during the handshake (strict limit), anything longer than the limit is a ProtocolError', () => {
    fc.assert(
      fc.property(bytesOf(300), fc.integer({ min: 1, max: 50 }), (payload, cut) => {
        const frames: Buffer[] = [];
        const reader = new FrameReader(1024, {
          frame: (buf, start, end) => frames.push(Buffer.from(buf.subarray(start, end))),
          oversized: () => {
            throw new Error('no oversized frame in the handshake');
          },
        });
        reader.strictLimit = 37;
        const stream = Buffer.concat([lengthPrefix(payload.length), payload]);
        let failed = false;
        for (let pos = 0; pos < stream.length && !failed; pos += cut) {
          try {
            reader.push(stream.subarray(pos, pos + cut));
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
            failed = true;
          }
        }
        expect(failed).toBe(payload.length > 37);
        expect(frames).toEqual(payload.length > 37 ? [] : [payload]);
      }),
      fuzzParams(200),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Whole sessions against a fake server whose replies are damaged.

type ServerAction =
  | 'valid'
  | 'error-code'
  | 'garbage-body'
  | 'truncated-body'
  | 'wrong-xid'
  | 'duplicate'
  | 'oversized'
  | 'corrupt-length'
  | 'cut-stream'
  | 'drop'
  | 'notification-garbage'
  | 'split';

const serverActions: ServerAction[] = [
  'valid',
  'error-code',
  'garbage-body',
  'truncated-body',
  'wrong-xid',
  'duplicate',
  'oversized',
  'corrupt-length',
  'cut-stream',
  'drop',
  'notification-garbage',
  'split',
];

type RequestKind = 'get' | 'exists' | 'getChildren' | 'getAcl';
const REQUEST_OPS = new Set<number>([Op.GET_DATA, Op.EXISTS, Op.GET_CHILDREN2, Op.GET_ACL]);
const MAX_FRAME = 2048;

/** The stat the fake server gives every node: `dataLength` tells which path it answered. */
function fakeStat(path: string): StatModel {
  return {
    czxid: 1n,
    mzxid: 2n,
    ctime: 1_700_000_000_000n,
    mtime: 1_700_000_000_001n,
    version: 3,
    cversion: 4,
    aversion: 5,
    owner: 0n,
    dataLength: Buffer.byteLength(path),
    numChildren: 1,
    pzxid: 6n,
  };
}

/** The reply body a well-behaved server would send for `request`. */
function validBody(request: FakeRequest): Buffer {
  const path = new JuteReader(request.body).requiredString('path');
  const stat = fakeStat(path);
  switch (request.op) {
    case Op.GET_DATA:
      return writeStat(new Bytes().buffer(Buffer.from(`data of ${path}`)), stat).done();
    case Op.GET_CHILDREN2:
      return writeStat(new Bytes().int(1).string(`child of ${path}`), stat).done();
    case Op.GET_ACL:
      return writeStat(new Bytes().int(1).int(31).string('world').string(path), stat).done();
    default:
      return writeStat(new Bytes(), stat).done();
  }
}

function expectedValue(kind: RequestKind, path: string): unknown {
  const stat = expectedStat(fakeStat(path));
  switch (kind) {
    case 'get':
      return { data: Buffer.from(`data of ${path}`), stat };
    case 'getChildren':
      return { children: [`child of ${path}`], stat };
    case 'getAcl':
      return { acl: [{ perms: 31, scheme: 'world', id: path }], stat };
    default:
      return stat;
  }
}

function replyFrame(xid: number, zxid: number, err: number, body: Buffer): Buffer {
  return new Bytes()
    .int(16 + body.length)
    .int(xid)
    .long(BigInt(zxid))
    .int(err)
    .raw(body)
    .done();
}

interface SessionCase {
  requests: Array<{ kind: RequestKind; path: string }>;
  actions: ServerAction[];
  errorCodes: number[];
  garbage: Buffer[];
}

const sessionCase: fc.Arbitrary<SessionCase> = fc.record({
  requests: fc.array(
    fc.record({
      kind: fc.constantFrom<RequestKind>('get', 'exists', 'getChildren', 'getAcl'),
      path: fc.stringMatching(/^\/[a-z0-9]{1,12}$/),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  actions: fc.array(fc.constantFrom(...serverActions), { minLength: 1, maxLength: 6 }),
  errorCodes: fc.array(
    fc.oneof(
      fc.constantFrom(-101, -110, -4, -112, -6, -1000),
      int32.filter((c) => c !== 0),
    ),
    { minLength: 1, maxLength: 3 },
  ),
  garbage: fc.array(bytesOf(120), { minLength: 1, maxLength: 3 }),
});

/** Answers requests as the case says, in turn; pings and anything after the case: validly. */
class FuzzedServer {
  actions: ServerAction[] = [];
  errorCodes: number[] = [1];
  garbage: Buffer[] = [Buffer.alloc(0)];
  /** Paths whose reply was garbage at least once: any decoded value is acceptable for them. */
  readonly garbled = new Set<string>();
  private turn = 0;
  private zxid = 10;

  reset(fuzz: SessionCase): void {
    this.actions = fuzz.actions;
    this.errorCodes = fuzz.errorCodes;
    this.garbage = fuzz.garbage;
    this.garbled.clear();
    this.turn = 0;
  }

  connect(connection: FakeConnection): void {
    connection.accept(0x100n, 4000);
    connection.onRequest = (request) => this.answer(connection, request);
  }

  private answer(connection: FakeConnection, request: FakeRequest): void {
    const socket = connection.socket;
    if (socket.destroyed) return;
    const zxid = ++this.zxid;
    if (request.xid < 0) {
      socket.write(replyFrame(request.xid, zxid, 0, Buffer.alloc(0)));
      return;
    }
    if (!REQUEST_OPS.has(request.op)) {
      // closeSession: answered, and the link ends.
      socket.end(replyFrame(request.xid, zxid, 0, Buffer.alloc(0)));
      return;
    }
    const turn = this.turn++;
    const action = this.actions[turn] ?? 'valid';
    const body = validBody(request);
    const garbage = this.garbage[turn % this.garbage.length];
    const valid = replyFrame(request.xid, zxid, 0, body);
    const path = new JuteReader(request.body).requiredString('path');
    switch (action) {
      case 'valid':
        socket.write(valid);
        return;
      case 'error-code':
        socket.write(
          replyFrame(
            request.xid,
            zxid,
            this.errorCodes[turn % this.errorCodes.length],
            Buffer.alloc(0),
          ),
        );
        return;
      case 'garbage-body':
        this.garbled.add(path);
        socket.write(replyFrame(request.xid, zxid, 0, garbage));
        return;
      case 'truncated-body':
        this.garbled.add(path);
        socket.write(replyFrame(request.xid, zxid, 0, body.subarray(0, turn % body.length)));
        return;
      case 'wrong-xid':
        socket.write(replyFrame(request.xid + 1 + turn, zxid, 0, body));
        return;
      case 'duplicate':
        socket.write(Buffer.concat([valid, valid]));
        return;
      case 'oversized':
        socket.write(replyFrame(request.xid, zxid, 0, Buffer.alloc(MAX_FRAME + 1100 + turn, 1)));
        return;
      case 'corrupt-length':
        socket.write(Buffer.concat([lengthPrefix(-1 - turn), garbage]));
        return;
      case 'cut-stream':
        socket.end(valid.subarray(0, Math.max(1, turn % valid.length)));
        return;
      case 'drop':
        socket.destroy();
        return;
      case 'notification-garbage':
        this.garbled.add(path);
        socket.write(Buffer.concat([replyFrame(-1, zxid, 0, garbage), valid]));
        return;
      case 'split': {
        const pieces = [valid.subarray(0, 3), valid.subarray(3, 17), valid.subarray(17)];
        const next = (): void => {
          const piece = pieces.shift();
          if (piece === undefined || socket.destroyed) return;
          socket.write(piece);
          setImmediate(next);
        };
        next();
        return;
      }
    }
  }
}

type Settled = { value: unknown } | { error: unknown } | 'pending';

async function settle(promise: Promise<unknown>, ms: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function call(session: DriverSession, kind: RequestKind, path: string): Promise<unknown> {
  switch (kind) {
    case 'get':
      return session.get(path, false);
    case 'exists':
      return session.exists(path, false);
    case 'getChildren':
      return session.getChildren(path, false);
    case 'getAcl':
      return session.getAcl(path);
  }
}

describe('wire decoder fuzzing: sessions against a server sending damaged replies', () => {
  const sessions = new WireSessions();
  const behaviour = new FuzzedServer();
  let server: FakeZkServer | undefined;
  afterEach(() => sessions.closeAll());
  afterAll(() => server?.close());

  it('every request settles with its own reply or a typed error, and the session serves again', async () => {
    server = await FakeZkServer.start((connection) => behaviour.connect(connection));
    const connectString = server.connectString;
    await fc.assert(
      fc.asyncProperty(sessionCase, async (fuzz) => {
        behaviour.reset(fuzz);
        const { session } = await sessions.open({ connectString, maxFrameBytes: MAX_FRAME });
        try {
          const calls = fuzz.requests.map((r) => settle(call(session, r.kind, r.path), 8000));
          const results = await Promise.all(calls);
          results.forEach((result, i) => {
            const { kind, path } = fuzz.requests[i];
            if (result === 'pending') throw new Error(`${kind} ${path} never settled`);
            if ('error' in result) {
              const error = result.error;
              const typed =
                error instanceof DriverFailure ||
                error instanceof ProtocolError ||
                error instanceof FrameTooLargeError ||
                error instanceof ZookeeperError;
              if (!typed) throw new Error(`${kind} ${path}: ${errorText(error)}`);
            } else if (!behaviour.garbled.has(path)) {
              expect(comparable(result.value)).toEqual(comparable(expectedValue(kind, path)));
            }
          });
          // The damage is over: the next request is served (over a new link if one was dropped).
          behaviour.actions = [];
          const after = await settle(session.get('/after', false), 8000);
          expect(after !== 'pending' && 'value' in after ? comparable(after.value) : after).toEqual(
            comparable(expectedValue('get', '/after')),
          );
        } finally {
          session.close();
        }
      }),
      fuzzParams(25, { timeout: 30_000 }),
    );
  }, 120_000);
});
