import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ProtocolError, type Acl } from 'nestjs-zookeeper';
import { MultiFailure, MultiResult } from '../../../libs/zookeeper/src/driver/multi.js';
import { JuteReader } from '../../../libs/zookeeper/src/driver/wire/jute/jute-reader.js';
import { Op, resultText } from '../../../libs/zookeeper/src/driver/wire/op-codes.js';
import { ReplyKind } from '../../../libs/zookeeper/src/driver/wire/pending-queue.js';
import { decodeReply } from '../../../libs/zookeeper/src/driver/wire/records/replies.js';
import { fuzzParams } from '../../support/fuzz.js';
import {
  Bytes,
  bytesOf,
  comparable,
  expectedStat,
  int32,
  mutate,
  mutation,
  outcome,
  StatModel,
  statModel,
  text,
  wireText,
  writeStat,
} from './wire-fuzz-support.js';

// Property-based tests of the replies the wire driver decodes, of every kind: valid replies
// round-trip exactly and to their end; cut, damaged or mismatched ones are a ProtocolError.

const identity = (path: string): string => path;

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
