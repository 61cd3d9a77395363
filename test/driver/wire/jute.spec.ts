import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameTooLargeError, ProtocolError } from 'nestjs-zookeeper';
import { MultiFailure } from '../../../libs/zookeeper/src/driver/multi.js';
import { FrameReader } from '../../../libs/zookeeper/src/driver/wire/frame-reader.js';
import { HostList, parseConnectString } from '../../../libs/zookeeper/src/driver/wire/host-list.js';
import {
  hex64,
  JuteReader,
  parseHex64,
} from '../../../libs/zookeeper/src/driver/wire/jute/jute-reader.js';
import { JuteWriter } from '../../../libs/zookeeper/src/driver/wire/jute/jute-writer.js';
import { Op } from '../../../libs/zookeeper/src/driver/wire/op-codes.js';
import { ReplyKind } from '../../../libs/zookeeper/src/driver/wire/pending-queue.js';
import {
  aclBytes,
  readAcl,
  readStat,
  writeAcl,
} from '../../../libs/zookeeper/src/driver/wire/records/data-records.js';
import {
  decodeMultiResponse,
  encodeMulti,
} from '../../../libs/zookeeper/src/driver/wire/records/multi-codec.js';
import { decodeReply } from '../../../libs/zookeeper/src/driver/wire/records/replies.js';
import {
  encodeConnect,
  encodeCreate,
  encodeSetData,
} from '../../../libs/zookeeper/src/driver/wire/records/requests.js';
import {
  decodeConnectResponse,
  decodeWatcherEvent,
} from '../../../libs/zookeeper/src/driver/wire/records/responses.js';
import { encodeSetWatches } from '../../../libs/zookeeper/src/driver/wire/records/set-watches.js';

const identity = (path: string) => path;

/** A Stat as the server writes it. */
function statBytes(owner: [number, number] = [0, 0]): Buffer {
  const writer = new JuteWriter(68);
  writer.long(10); // czxid
  writer.long(2 ** 40 + 5); // mzxid
  writer.long(1_700_000_000_000); // ctime
  writer.long(1_700_000_000_500); // mtime
  writer.int(3);
  writer.int(4);
  writer.int(5);
  writer.longParts(owner[0], owner[1]);
  writer.int(6);
  writer.int(7);
  writer.long(11); // pzxid
  return writer.done();
}

function frameOf(payload: Buffer): Buffer {
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  return frame;
}

/** Runs `decode`; only success or a ProtocolError is acceptable. */
function onlyProtocolErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
  }
}

describe('jute records', () => {
  it('round-trips ints, longs, booleans, strings, buffers and vectors', () => {
    const writer = new JuteWriter(
      4 + 8 + 8 + 1 + 1 + (4 + 6) + 4 + (4 + 3) + 4 + (4 + 4 + 2 + 4 + 1),
    );
    writer.int(-123456);
    writer.long(2 ** 53 - 1);
    writer.long(-1);
    writer.bool(true);
    writer.bool(false);
    writer.string('héllo', 6);
    writer.int(-1); // null string
    writer.buffer(Buffer.from([1, 2, 3]));
    writer.buffer(null);
    writer.stringVector(['ab', 'c'], [2, 1]);
    const reader = new JuteReader(writer.done());
    expect(reader.int()).toBe(-123456);
    expect(reader.long()).toBe(2 ** 53 - 1);
    expect(reader.long()).toBe(-1);
    expect(reader.bool()).toBe(true);
    expect(reader.bool()).toBe(false);
    expect(reader.string()).toBe('héllo');
    expect(reader.string()).toBeNull();
    expect(reader.buffer()).toEqual(Buffer.from([1, 2, 3]));
    expect(reader.buffer()).toBeNull();
    expect(reader.stringVector()).toEqual(['ab', 'c']);
    expect(reader.remaining).toBe(0);
  });

  it('decodes a Stat with times as dates and the owner as hex without leading zeros', () => {
    const stat = readStat(new JuteReader(statBytes([0x0100_0a4e, 0x0000_00ff])));
    expect(stat).toEqual({
      czxid: 10,
      mzxid: 2 ** 40 + 5,
      pzxid: 11,
      ctime: new Date(1_700_000_000_000),
      mtime: new Date(1_700_000_000_500),
      version: 3,
      cversion: 4,
      aversion: 5,
      ephemeralOwner: '1000a4e000000ff',
      dataLength: 6,
      numChildren: 7,
    });
    expect(readStat(new JuteReader(statBytes())).ephemeralOwner).toBe('0');
  });

  it('formats and parses 64-bit ids like the native driver (%llx)', () => {
    expect(hex64(0, 0)).toBe('0');
    expect(hex64(0x100, 0xa)).toBe('1000000000a');
    expect(hex64(0xffffffff, 0xffffffff)).toBe('ffffffffffffffff');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (high, low) => {
          const parsed = parseHex64(hex64(high, low));
          expect([parsed.high >>> 0, parsed.low]).toEqual([high, low]);
        },
      ),
    );
    expect(() => parseHex64('xyz')).toThrow();
  });

  it('round-trips an ACL vector', () => {
    const acl = [
      { perms: 31, scheme: 'world', id: 'anyone' },
      { perms: 1, scheme: 'digest', id: 'app:Zm9v' },
    ];
    const lengths: number[] = [];
    const writer = new JuteWriter(aclBytes(acl, lengths));
    writeAcl(writer, acl, lengths);
    expect(readAcl(new JuteReader(writer.done()))).toEqual(acl);
  });

  it('encodes a ConnectRequest and decodes a ConnectResponse (with and without readOnly)', () => {
    const password = Buffer.alloc(16, 7);
    const frame = encodeConnect({
      lastZxidHigh: 1,
      lastZxidLow: 2,
      timeoutMs: 4000,
      sessionIdHigh: 0x0100_0000,
      sessionIdLow: 5,
      password,
    });
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const reader = new JuteReader(frame, 4);
    expect([reader.int(), reader.long(), reader.int(), reader.longHex()]).toEqual([
      0,
      2 ** 32 + 2,
      4000,
      '100000000000005',
    ]);
    expect(reader.buffer()).toEqual(password);
    expect(reader.bool()).toBe(false);

    const response = new JuteWriter(37);
    response.int(0);
    response.int(6000);
    response.longParts(0x0100_0000, 9);
    response.buffer(password);
    response.bool(false);
    const bytes = response.done();
    expect(decodeConnectResponse(new JuteReader(bytes))).toMatchObject({
      timeoutMs: 6000,
      sessionIdHigh: 0x0100_0000,
      sessionIdLow: 9,
      password,
      readOnly: false,
    });
    expect(decodeConnectResponse(new JuteReader(bytes, 0, 36)).readOnly).toBe(false);
    expect(() => decodeConnectResponse(new JuteReader(bytes, 0, 30))).toThrow(ProtocolError);
  });

  it('encodes create and setData requests of exactly the announced size', () => {
    const create = encodeCreate(7, Op.CREATE_TTL, '/a/ü', Buffer.from('x'), [], 5, 1000);
    expect(create.readInt32BE(0)).toBe(create.length - 4);
    const reader = new JuteReader(create, 4);
    expect([reader.int(), reader.int(), reader.string(), reader.buffer()?.toString()]).toEqual([
      7,
      Op.CREATE_TTL,
      '/a/ü',
      'x',
    ]);
    expect(readAcl(reader)).toEqual([]);
    expect([reader.int(), reader.long(), reader.remaining]).toEqual([5, 1000, 0]);
    const set = encodeSetData(8, '/k', Buffer.alloc(1024), -1);
    expect(set.length).toBe(4 + 8 + 4 + 2 + 4 + 1024 + 4);
  });

  it('encodes a multi and decodes its results and its failure', () => {
    const frame = encodeMulti(
      3,
      [
        { type: 'check', path: '/a', version: 1 },
        { type: 'create', path: '/a/b', data: Buffer.from('v'), flags: 0, acl: [] },
        { type: 'set', path: '/a', data: Buffer.from('w'), version: -1 },
        { type: 'delete', path: '/c', version: 2 },
      ],
      (path) => `/root${path}`,
    );
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    expect(frame.includes('/root/a/b')).toBe(true);

    const ok = new JuteWriter(9 * 5 + 4 + 9 + 68);
    const header = (type: number, done = false, err = 0) => {
      ok.int(type);
      ok.bool(done);
      ok.int(err);
    };
    header(Op.CHECK);
    header(Op.CREATE);
    ok.string('/root/a/b', 9);
    header(Op.SET_DATA);
    statBytes().copy(ok.buf, ok.pos);
    ok.pos += 68;
    header(Op.DELETE);
    header(-1, true, -1);
    const results = decodeMultiResponse(new JuteReader(ok.done()), 4, (path) =>
      path.slice('/root'.length),
    );
    expect(results).toEqual([
      { type: 'check' },
      { type: 'create', path: '/a/b' },
      { type: 'set', stat: expect.objectContaining({ version: 3 }) },
      { type: 'delete' },
    ]);

    const failed = new JuteWriter(9 * 4 + 4 * 3);
    for (const code of [0, -101, -2]) {
      failed.int(-1);
      failed.bool(false);
      failed.int(code);
      failed.int(code);
    }
    failed.int(-1);
    failed.bool(true);
    failed.int(-1);
    const failure = decodeMultiResponse(new JuteReader(failed.done()), 3, identity);
    expect(failure).toBeInstanceOf(MultiFailure);
    expect(failure).toMatchObject({ rc: -101, index: 1, codes: [0, -101, -2] });
  });

  it('splits SetWatches below 128 KB per packet and keeps every path', () => {
    const data = Array.from({ length: 3000 }, (_, i) => `/data/${'x'.repeat(90)}/${i}`);
    const exist = ['/e1', '/e2'];
    const recursive = ['/r'];
    const packets = encodeSetWatches(0, 42, {
      data,
      exist,
      child: [],
      persistent: [],
      persistentRecursive: recursive,
    });
    expect(packets.length).toBeGreaterThan(2);
    const seen = { data: [] as string[], exist: [] as string[], recursive: [] as string[] };
    for (const packet of packets) {
      expect(packet.length).toBeLessThan(128 * 1024 + 64);
      const reader = new JuteReader(packet, 4);
      expect(reader.int()).toBe(-8);
      const op = reader.int();
      expect(reader.long()).toBe(42);
      seen.data.push(...reader.stringVector());
      seen.exist.push(...reader.stringVector());
      expect(reader.stringVector()).toEqual([]);
      if (op === Op.SET_WATCHES2) {
        expect(reader.stringVector()).toEqual([]);
        seen.recursive.push(...reader.stringVector());
      } else {
        expect(op).toBe(Op.SET_WATCHES);
      }
      expect(reader.remaining).toBe(0);
    }
    expect(seen).toEqual({ data, exist, recursive });
  });

  it('parses connect strings and tries every host once per round', () => {
    expect(parseConnectString('a:1,[::1]:2,b/app/x/')).toEqual({
      hosts: [
        { host: 'a', port: 1 },
        { host: '::1', port: 2 },
        { host: 'b', port: 2181 },
      ],
      chroot: '/app/x',
    });
    expect(() => parseConnectString('/only-chroot')).toThrow();
    expect(() => parseConnectString('a:0')).toThrow();
    const hosts = new HostList(parseConnectString('a:1,b:2,c:3').hosts);
    const round = [hosts.next(), hosts.next(), hosts.next()];
    expect(new Set(round.map((next) => next.address.host))).toEqual(new Set(['a', 'b', 'c']));
    expect(round.map((next) => next.roundFailed)).toEqual([false, false, false]);
    expect(hosts.next().roundFailed).toBe(true);
    hosts.success();
    expect(hosts.next().roundFailed).toBe(false);
  });
});

describe('frame reader', () => {
  const collect = (limit = 1000) => {
    const frames: string[] = [];
    const oversized: Array<[number, number]> = [];
    const reader = new FrameReader(limit, {
      frame: (buf, start, end) => frames.push(buf.toString('latin1', start, end)),
      oversized: (bytes, xid) => oversized.push([bytes, xid]),
    });
    return { reader, frames, oversized };
  };

  it('yields the same frames however the stream is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => frameOf(Buffer.from(p, 'latin1'))));
          const { reader, frames } = collect();
          let pos = 0;
          for (let i = 0; pos < stream.length; i++) {
            const size = cuts[i % cuts.length];
            reader.push(stream.subarray(pos, pos + size));
            pos += size;
          }
          expect(frames).toEqual(payloads);
          expect(reader.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('skips a frame above the limit and reports its size and xid, then goes on', () => {
    const big = Buffer.alloc(5000, 1);
    big.writeInt32BE(77, 0);
    const stream = Buffer.concat([
      frameOf(Buffer.from('a')),
      frameOf(big),
      frameOf(Buffer.from('b')),
    ]);
    for (const size of [1, 3, 7, 4096, stream.length]) {
      const { reader, frames, oversized } = collect();
      for (let pos = 0; pos < stream.length; pos += size)
        reader.push(stream.subarray(pos, pos + size));
      expect(frames).toEqual(['a', 'b']);
      expect(oversized).toEqual([[5000, 77]]);
    }
  });

  it('calls a negative or absurd length a ProtocolError (e.g. an HTTP answer)', () => {
    expect(() => collect().reader.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toThrow(
      ProtocolError,
    );
    expect(() => collect().reader.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(
      ProtocolError,
    );
    const strict = collect();
    strict.reader.strictLimit = 64;
    expect(() => strict.reader.push(frameOf(Buffer.alloc(100)))).toThrow(ProtocolError);
  });

  it('random bytes give frames, oversized reports or a ProtocolError, nothing else (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.integer({ min: 1, max: 100 }),
        (bytes, cut) => {
          const { reader } = collect(256);
          onlyProtocolErrors(() => {
            for (let pos = 0; pos < bytes.length; pos += cut) {
              reader.push(Buffer.from(bytes.subarray(pos, pos + cut)));
            }
          });
        },
      ),
    );
  });
});

describe('decoders on malformed input', () => {
  const kinds = Object.values(ReplyKind);

  it('random bodies decode or throw a ProtocolError, never another error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...kinds), (bytes, kind) => {
        const buf = Buffer.from(bytes);
        onlyProtocolErrors(() => decodeReply(kind, new JuteReader(buf), 3, identity));
        onlyProtocolErrors(() => decodeConnectResponse(new JuteReader(buf)));
        onlyProtocolErrors(() => decodeWatcherEvent(new JuteReader(buf)));
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid reply throws a ProtocolError without reading past its end', () => {
    const body = new JuteWriter(4 + 5 + 68);
    body.buffer(Buffer.from('value'));
    statBytes().copy(body.buf, body.pos);
    body.pos += 68;
    const full = Buffer.concat([body.done(), Buffer.from('trailing bytes of the next frame')]);
    const end = 4 + 5 + 68;
    expect(decodeReply(ReplyKind.DATA, new JuteReader(full, 0, end), 0, identity)).toMatchObject({
      data: Buffer.from('value'),
    });
    for (let cut = 0; cut < end; cut++) {
      expect(() => decodeReply(ReplyKind.DATA, new JuteReader(full, 0, cut), 0, identity)).toThrow(
        ProtocolError,
      );
    }
  });

  it('a huge vector count or string length is refused before any allocation', () => {
    const writer = new JuteWriter(8);
    writer.int(0x7fffffff);
    writer.int(1);
    expect(() =>
      decodeReply(ReplyKind.CHILDREN, new JuteReader(writer.done()), 0, identity),
    ).toThrow(ProtocolError);
    expect(() => new JuteReader(writer.buf).string()).toThrow(ProtocolError);
  });

  it('FrameTooLargeError names the direction and the limit', () => {
    const error = new FrameTooLargeError(2000, 1000, 'reply');
    expect(error.message).toContain('reply is 2000 bytes');
  });
});
