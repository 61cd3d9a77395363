import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  corruptFrameLength,
  FrameReader,
} from '../../../libs/zookeeper/src/driver/wire/frame-reader.js';
import { ProtocolError } from 'nestjs-zookeeper';
import { fuzzParams } from '../../support/fuzz.js';
import { bytesOf, lengthPrefix } from './wire-fuzz-support.js';

// Property-based tests of the frame reader against a model of the stream: however frames,
// oversized and corrupt ones arrive cut, it reports the model's events.

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
