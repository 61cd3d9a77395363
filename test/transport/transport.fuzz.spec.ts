import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import fc from 'fast-check';
import { firstValueFrom, timeout } from 'rxjs';
import { CreateMode, WorkQueue, ZookeeperConnection, ZookeeperError } from 'nestjs-zookeeper';
import { ClientZookeeper, InvalidPacketError, ServerZookeeper } from 'nestjs-zookeeper/transport';
import { encodeBatch } from '../../libs/zookeeper/src/messaging/shared/message-batch.js';
import { TestConnections, testNamespace } from '../support/connect.js';
import { errorText, fuzzParams } from '../support/fuzz.js';
import { until } from '../support/until.js';

// Property-based tests of the transport against packets from a foreign writer: arbitrary JSON
// published where ServerZookeeper expects a request or an event, arbitrary bytes as queue items
// and as reply batches, and arbitrary pattern names. Each bad packet is reported as a typed error
// (InvalidPacketError...) and skipped; the server and the client go on serving valid ones.

const connections = new TestConnections(testNamespace('transport-fuzz'));
const ROOT = '/fuzz-svc';
const events: unknown[] = [];

@Controller()
class FuzzController {
  @MessagePattern('echo')
  echo(@Payload() value: unknown): unknown {
    return value;
  }

  @EventPattern('evt')
  evt(@Payload() value: unknown): void {
    events.push(value);
  }
}

@Module({ controllers: [FuzzController] })
class FuzzModule {}

let raw: ZookeeperConnection;
let service: INestMicroservice;
let client: ClientZookeeper;
const serverErrors: Error[] = [];
const clientErrors: Error[] = [];

beforeAll(async () => {
  raw = await connections.open();
  const server = new ServerZookeeper({
    connection: await connections.open(),
    root: ROOT,
    closeGracePeriodMs: 1000,
  });
  server.on('error', (error) => serverErrors.push(error));
  service = await NestFactory.createMicroservice(FuzzModule, { strategy: server, logger: false });
  await service.listen();
  client = new ClientZookeeper({
    connection: await connections.open(),
    root: ROOT,
    requestTimeoutMs: 10_000,
  });
  client.on('error', (error) => clientErrors.push(error));
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await service?.close();
  await connections.closeAll();
});

let marker = 0;

/** A valid request after the damage: its own reply comes back. */
async function echoServes(waitMs = 5000): Promise<void> {
  const value = { marker: ++marker };
  const reply = await firstValueFrom(client.send('echo', value).pipe(timeout(waitMs)));
  expect(reply).toEqual(value);
}

/** A valid event after the damage: it is handled. */
async function eventsServe(waitMs = 5000): Promise<void> {
  const value = { marker: ++marker };
  await firstValueFrom(client.emit('evt', value));
  await until(() => events.some((e) => JSON.stringify(e) === JSON.stringify(value)), {
    timeoutMs: waitMs,
    message: `event ${JSON.stringify(value)} handled`,
  });
}

function expectTypedErrors(errors: Error[]): void {
  const untyped = errors.filter((error) => !(error instanceof ZookeeperError));
  expect(untyped.map(errorText)).toEqual([]);
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const EMPTY_BATCH = encodeBatch([]);
/** Nearly a packet: each field may be missing, of the wrong type or out of range. */
const nearPacket = fc.record(
  {
    pattern: fc.oneof(fc.constantFrom('echo', 'evt', 'nope', '', '{"cmd":1}'), anyJson),
    data: anyJson,
    id: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
    replyTo: fc.oneof(
      fc.constantFrom('.', '..', 'a/b', '', 'x'.repeat(101), 'zookeeper', '__chunks'),
      fc.stringMatching(/^[\w.-]{1,20}$/),
      anyJson,
    ),
    deadline: fc.oneof(
      fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, 1e308),
      fc.integer(),
      anyJson,
      fc.constant(Date.now() + 60_000),
    ),
    metadata: fc.oneof(fc.constantFrom(null, 'text', 5), fc.dictionary(fc.string(), anyJson)),
  },
  { requiredKeys: [] },
);
const foreignPacket = fc.oneof(anyJson, nearPacket);

describe('transport fuzzing: packets from a foreign writer', () => {
  it('arbitrary JSON in a request queue is reported or answered, and requests go on', async () => {
    const requests = new WorkQueue(raw, `${ROOT}/requests/echo`);
    await fc.assert(
      fc.asyncProperty(fc.array(foreignPacket, { minLength: 1, maxLength: 4 }), async (packets) => {
        await requests.publish(packets);
        await echoServes();
      }),
      fuzzParams(40),
    );
    expectTypedErrors(serverErrors);
    expect(serverErrors.length).toBeGreaterThan(0);
  });

  it('arbitrary JSON in an event queue is reported or handled, and events go on', async () => {
    const queue = new WorkQueue(raw, `${ROOT}/events/evt`);
    await fc.assert(
      fc.asyncProperty(fc.array(foreignPacket, { minLength: 1, maxLength: 4 }), async (packets) => {
        await queue.publish(packets);
        await eventsServe();
      }),
      fuzzParams(30),
    );
    expectTypedErrors(serverErrors);
  });

  const rawBytes = fc.oneof(
    fc
      .uint8Array({ maxLength: 200 })
      .map((b) => Buffer.from(b))
      .filter((b) => !b.equals(EMPTY_BATCH)),
    fc
      // No batch of zero messages here: see the failing case below.
      .array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 })
      .map((messages) => encodeBatch(messages.map((m) => Buffer.from(m)))),
    fc
      .tuple(fc.array(anyJson, { minLength: 1, maxLength: 3 }), fc.nat(8))
      .map(([messages, cut]) => {
        const batch = encodeBatch(messages.map((m) => Buffer.from(JSON.stringify(m))));
        return batch.subarray(0, Math.max(0, batch.length - cut));
      }),
  );
  const itemName = fc.oneof(
    fc.integer({ min: 0, max: 5 }).map((n) => `m${n}-`),
    fc.constantFrom('m99999999999-', 'junk', 'm1-'),
  );

  // Regression, seed 20260415: with event items (path "9:0:0:0") and with request items only
  // (path "7:0:0:0", counterexample [a batch of one message 'null', "m0-"]), the queue's consumer
  // stopped handing out messages after about eight to ten items of arbitrary bytes (it retook
  // the first corrupt item forever). Such items now go to the queue's dead letters whole
  // (`item-corrupt`, see test/messaging/work-queue-corrupt.spec.ts).
  it('arbitrary bytes as request and event items never stop the server', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(rawBytes, fc.constant(EMPTY_BATCH)),
        itemName,
        fc.boolean(),
        fc.boolean(),
        async (bytes, anyName, request, byHeader) => {
          const items = `${ROOT}/${request ? 'requests/echo' : 'events/evt'}/items`;
          // A batch is named with its header's count, or with any name (another count, none).
          const name =
            byHeader && bytes.subarray(0, 4).equals(EMPTY_BATCH.subarray(0, 4)) && bytes.length >= 8
              ? `m${bytes.readUInt32BE(4)}-`
              : anyName;
          await raw.create(`${items}/${name}`, bytes, {
            mode: CreateMode.PERSISTENT_SEQUENTIAL,
            createParents: true,
          });
          await (request ? echoServes() : eventsServe());
        },
      ),
      fuzzParams(30),
    );
    expectTypedErrors(serverErrors);
  });

  // Found with seed 20260415, path "7:0:0:0": counterexample [ZMB1 + count 0 (an empty batch),
  // "m0-", event queue]. The queue consumer (messaging/queue, not the transport) stops handing
  // out the events published after an item of zero messages: the next valid event is not
  // handled within 10 s. Fixed in messaging/queue: such an item goes to the dead letters.
  it('regression: an item of zero messages in an event queue does not stop the events after it', async () => {
    await raw.create(`${ROOT}/events/evt/items/m0-`, EMPTY_BATCH, {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
      createParents: true,
    });
    await eventsServe(3000);
  });

  // Found with seed 20260415, path "9:0:0:0": counterexample [a batch of one message '{}',
  // "m99999999999-", event queue]: an item whose name gives another message count than its
  // content also stopped the events after it (messaging/queue; fixed: dead-lettered whole).
  it('regression: an item named with another count than it holds does not stop the events after it', async () => {
    await raw.create(`${ROOT}/events/evt/items/m99999999999-`, encodeBatch([Buffer.from('{}')]), {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
      createParents: true,
    });
    await eventsServe(3000);
  });

  it('arbitrary bytes in the client’s reply folder never stop its replies', async () => {
    const folder = `${ROOT}/replies/${(client as unknown as { clientId: string }).clientId}`;
    await fc.assert(
      fc.asyncProperty(rawBytes, itemName, async (bytes, name) => {
        await raw.create(`${folder}/${name}`, bytes, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
        await echoServes();
      }),
      fuzzParams(30),
    );
    expectTypedErrors(clientErrors);
  });
});

describe('transport fuzzing: pattern names', () => {
  // Regressions, seed 20260415: emit('') (path "3:0") failed with a SyntaxError (the pattern
  // named the patterns folder itself, whose empty data was parsed as a declaration); send with a
  // lone surrogate (path "23", 'x\udc00y') failed with a URIError from encodeURIComponent.
  it.each(['', 'x\udc00y', '\ud800'])(
    'pattern %j is refused with an InvalidPacketError',
    async (name) => {
      await expect(firstValueFrom(client.emit(name, 1))).rejects.toBeInstanceOf(InvalidPacketError);
      await expect(firstValueFrom(client.send(name, 1))).rejects.toBeInstanceOf(InvalidPacketError);
    },
  );

  it('regression: a declaration that is not JSON fails emit typed, and is read again next time', async () => {
    await raw.create(`${ROOT}/patterns/declared`, 'not json', { createParents: true });
    await expect(firstValueFrom(client.emit('declared', 1))).rejects.toBeInstanceOf(
      InvalidPacketError,
    );
    await raw.set(`${ROOT}/patterns/declared`, JSON.stringify({ broadcast: false }));
    await firstValueFrom(client.emit('declared', 1));
  });

  const pattern = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
    fc.constantFrom('.', '..', '/', 'a/b', '%', '\ud800', 'x\udc00y', '', 'zookeeper', '__x'),
    fc.string({ minLength: 300, maxLength: 2000 }),
  );

  it('emit to any pattern is durable or fails with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(pattern, anyJson, async (name, data) => {
        try {
          await firstValueFrom(client.emit(name, data));
        } catch (error) {
          // Nest's ClientProxy refuses null or undefined data itself (InvalidMessageException).
          const nest =
            error instanceof Error && error.constructor.name === 'InvalidMessageException';
          if (!(error instanceof ZookeeperError) && !nest)
            throw new Error(`emit: ${errorText(error)}`);
        }
      }),
      fuzzParams(60),
    );
  });

  it('send to any pattern is answered, times out or fails with a typed error', async () => {
    const quick = new ClientZookeeper({ connection: raw, root: ROOT, requestTimeoutMs: 300 });
    await quick.connect();
    try {
      await fc.assert(
        fc.asyncProperty(pattern, async (name) => {
          try {
            await firstValueFrom(quick.send(name, 1));
          } catch (error) {
            if (!(error instanceof ZookeeperError)) throw new Error(`send: ${errorText(error)}`);
          }
        }),
        fuzzParams(15),
      );
    } finally {
      await quick.close();
    }
  });
});
