import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DriverFailure } from '../../../libs/zookeeper/src/driver/driver-failure.js';
import { DriverSession } from '../../../libs/zookeeper/src/driver/driver-session.interface.js';
import { JuteReader } from '../../../libs/zookeeper/src/driver/wire/jute/jute-reader.js';
import { Op } from '../../../libs/zookeeper/src/driver/wire/op-codes.js';
import { FrameTooLargeError, ProtocolError, ZookeeperError } from 'nestjs-zookeeper';
import { errorText, fuzzParams } from '../../support/fuzz.js';
import { FakeConnection, FakeRequest, FakeZkServer } from './fake-zk-server.js';
import { WireSessions } from './wire-helpers.js';
import {
  Bytes,
  bytesOf,
  comparable,
  expectedStat,
  int32,
  lengthPrefix,
  StatModel,
  writeStat,
} from './wire-fuzz-support.js';

// Property-based tests of whole wire sessions against a fake server that answers with damaged
// bytes: every request settles (no hang) with its own reply or a typed error, and the session
// serves again.

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
