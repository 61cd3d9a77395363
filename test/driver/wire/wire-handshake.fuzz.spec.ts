import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { JuteReader } from '../../../libs/zookeeper/src/driver/wire/jute/jute-reader.js';
import {
  decodeConnectResponse,
  decodeWatcherEvent,
} from '../../../libs/zookeeper/src/driver/wire/records/responses.js';
import { fuzzParams } from '../../support/fuzz.js';
import {
  anyLong,
  Bytes,
  bytesOf,
  int32,
  mutate,
  mutation,
  outcome,
  text,
  wireText,
} from './wire-fuzz-support.js';

// Property-based tests of the handshake's ConnectResponse, watch events and raw Jute reads:
// valid records decode exactly; damaged or random bytes decode or are a ProtocolError.

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
