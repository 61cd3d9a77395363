import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { firstValueFrom, take, toArray } from 'rxjs';
import { BroadcastLog } from 'nestjs-zookeeper';
import type { EventPacket } from 'nestjs-zookeeper/transport';
import { startConsumerTransport } from '../../apps/consumer/src/consumer-transport.js';
import { producerHttpAdapter } from '../../apps/producer/src/http-adapter.js';
import { validateDemoEnv } from '../../apps/shared/src/demo-config.js';
import { DEMO_PATHS, DEMO_TRANSPORT } from '../../apps/shared/src/demo-topology.js';
import { testConnectString, useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

// The demo apps in-process against the test server: a producer and a consumer wired exactly as
// in production (their AppModules and HTTP platforms, the producer on Fastify; the consumer a
// hybrid app with its transport server, as its main.ts starts it), each with its own instance
// name.
const connections = useTestConnections('demo-flow');
const { namespace } = connections;
process.env.ZK_CONNECT = testConnectString();
process.env.ZK_NAMESPACE = namespace;

const apps: INestApplication[] = [];
let producerUrl: string;
let consumerUrl: string;
let consumerApp: INestApplication;

async function startApp(
  module: Type<unknown>,
  name: string,
  beforeListen?: (app: INestApplication) => Promise<void>,
  httpAdapter?: AbstractHttpAdapter,
): Promise<string> {
  const config = new ConfigService(
    validateDemoEnv({
      ZK_CONNECT: testConnectString(),
      ZK_NAMESPACE: namespace,
      ZK_SESSION_TIMEOUT_MS: '4000',
      INSTANCE_NAME: name,
    }),
  );
  const testing = await Test.createTestingModule({ imports: [module] })
    .overrideProvider(ConfigService)
    .useValue(config)
    .compile();
  const options = { logger: ['error' as const] };
  const app = httpAdapter
    ? testing.createNestApplication(httpAdapter, options)
    : testing.createNestApplication(options);
  apps.push(app);
  await beforeListen?.(app);
  await app.listen(0, '127.0.0.1');
  return await app.getUrl();
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${producerUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Reads a status until `done` holds for it; fails after 30 s showing the last one read. */
async function statusWhen<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string) {
  let value: T | undefined;
  await until(async () => done((value = await read())), {
    message: () => `${what}; last: ${JSON.stringify(value)}`,
    pollMs: 100,
  });
  return value!;
}

beforeAll(async () => {
  // Loaded after the environment is set: the apps' ConfigModule validates it on import.
  const producer = (await import('../../apps/producer/src/app.module.js')).AppModule;
  const consumer = (await import('../../apps/consumer/src/app.module.js')).AppModule;
  producerUrl = await startApp(producer, 'producer-t', undefined, producerHttpAdapter());
  consumerUrl = await startApp(consumer, 'consumer-t', startConsumerTransport);
  consumerApp = apps.at(-1)!;
});

afterAll(async () => {
  for (const app of apps.reverse()) await app.close();
});

describe('demo apps: the master/client flow', () => {
  it('elects the producer master and lists the registered consumer', async () => {
    // The page's consumer-stats request has a 1 s deadline: on a loaded machine the first ones
    // may miss it (an `error` field), so the page is read until one was answered.
    const status = await statusWhen(
      () => getJson<any>(`${producerUrl}/status`),
      (s) => s.isMaster && s.clients.length === 1 && s.consumerStats.answer !== undefined,
      'a master with one client, and an answer from it',
    );
    expect(status).toMatchObject({ name: 'producer-t', master: 'producer-t' });
    // RECONNECTED when a loaded machine suspended the session for a moment.
    expect(['CONNECTED', 'RECONNECTED']).toContain(status.state);
    expect(status.clients[0]).toMatchObject({ name: 'consumer-t' });
    expect(status.clients[0].node).toMatch(/^_c_[0-9a-f-]{36}-member-\d{10}$/);
    // The consumer reports the member node it joined as: the one the producer lists.
    const consumer = await getJson<any>(`${consumerUrl}/status`);
    expect(consumer.registration).toBe(`${DEMO_PATHS.clients}/${status.clients[0].node}`);
    // GET /status asked the consumers over the transport (request/response): consumer-t answered.
    expect(status.consumerStats).toMatchObject({
      answer: { name: 'consumer-t', received: { count: 0 }, jobsDone: 0 },
    });
  });

  it("serves the library's dashboard page and files on the producer's Fastify", async () => {
    const page = await fetch(`${producerUrl}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<base href="/dashboard/" />');
    // With a final '/' too, as on Express.
    expect((await fetch(`${producerUrl}/dashboard/`)).status).toBe(200);
    const script = await fetch(`${producerUrl}/dashboard/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=300');
    expect((await script.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${producerUrl}/dashboard/assets/missing.js`)).status).toBe(404);
    const snapshot = await getJson<any>(`${producerUrl}/dashboard/api/snapshot`);
    expect(snapshot).toHaveProperty('snapshot');
    // The event stream (SSE) sends samples; aborted once one came, so the app can close.
    const stream = new AbortController();
    const events = await fetch(`${producerUrl}/dashboard/api/events`, { signal: stream.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let text = '';
    try {
      for await (const chunk of events.body!) {
        text += Buffer.from(chunk as Uint8Array).toString();
        if (text.includes('\n\n') && /^data: \{/m.test(text)) break;
      }
    } finally {
      stream.abort();
    }
    expect(text).toMatch(/^data: \{"/m);
  });

  it('answers 400 with every reason for a bad message, and stores nothing', async () => {
    // The ValidationPipe lists unknown fields first, then one problem per field.
    const cases: Array<[unknown, RegExp[]]> = [
      [{}, [/'text' is required and must be a string, got nothing/]],
      [{ text: '   ' }, [/'text' must not be empty/]],
      [{ text: 'x'.repeat(10_001) }, [/'text' must be at most 10000 characters, got 10001/]],
      [
        { text: 5, id: 'has space', extra: 1 },
        [/property extra should not exist/, /'text' is required/, /'id' must be/],
      ],
      [{ text: 'ok', id: null }, [/'id' must be .*, got null/]],
      [[{ text: 'in an array' }], [/must be a JSON object .*, got an array/]],
    ];
    for (const [body, reasons] of cases) {
      for (const path of ['/messages', '/jobs']) {
        const { status, json } = await post(path, body);
        expect(status).toBe(400);
        expect(json.message).toHaveLength(reasons.length);
        reasons.forEach((reason, index) => expect(json.message[index]).toMatch(reason));
      }
    }
    const status = await getJson<any>(`${producerUrl}/status`);
    expect(status.queues).toEqual({ inbox: 0, jobs: 0 });
    expect(status.relayed).toBe(0);
  });

  it('relays every posted message through the master to the consumer, in order, and runs jobs', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `m-${i}`);
    // A second reader of the transport's log, durable before anything is posted, checks the
    // order; its entries are the transport's event packets.
    const log = new BroadcastLog<EventPacket>(connections.zk, DEMO_TRANSPORT.messagesLog);
    const registered = firstValueFrom(log.events$);
    const read = firstValueFrom(
      log.deliveries('order-check', { from: 'latest', autoAck: true }).pipe(take(25), toArray()),
    );
    expect(await registered).toMatchObject({ type: 'registered', subscriberId: 'order-check' });
    for (const id of ids) {
      const { status, json } = await post('/messages', { id, text: `hello ${id}` });
      expect(status).toBe(202);
      expect(json).toMatchObject({ id, acceptedBy: 'producer-t' });
    }
    for (let i = 0; i < 5; i++)
      expect((await post('/jobs', { text: `job ${i}` })).status).toBe(202);
    const consumer = await statusWhen(
      () => getJson<any>(`${consumerUrl}/status`),
      (s) => s.received.count >= 25 && s.jobsDone >= 5,
      '25 messages and 5 jobs at the consumer',
    );
    expect(consumer).toMatchObject({ name: 'consumer-t', received: { count: 25 }, jobsDone: 5 });
    const producer = await statusWhen(
      () => getJson<any>(`${producerUrl}/status`),
      (s) => s.consumerStats.answer !== undefined,
      'an answer to consumer-stats',
    );
    expect(producer.relayed).toBe(25);
    expect(producer.log.lastOffset).toBe(consumer.received.lastOffset);
    expect(producer.queues).toEqual({ inbox: 0, jobs: 0 });
    // The master's own POSTs went straight into the log (wire: relay.append), never through the
    // inbox: its items folder never had a child. Without transactions they go through it.
    const inboxItems = await connections.zk.exists(`${DEMO_PATHS.inbox}/items`);
    if (connections.zk.capabilities.multi) expect(inboxItems?.cversion).toBe(0);
    else expect(inboxItems?.cversion).toBeGreaterThan(0);
    expect(producer.consumerStats.answer).toEqual({
      name: 'consumer-t',
      pid: process.pid,
      received: consumer.received,
      jobsDone: 5,
    });
    const packets = (await read).map((delivery) => delivery.message);
    expect(packets.map((packet) => packet.pattern)).toEqual(ids.map(() => 'messages'));
    expect(packets.map((packet) => (packet.data as { id: string }).id)).toEqual(ids);
    await log.close();
  });

  it('a stopped consumer leaves the group, and /status shows that no consumer answered', async () => {
    const closing = Date.now();
    await consumerApp.close();
    apps.splice(apps.indexOf(consumerApp), 1);
    // The hybrid app's transport stops with it, on its still open session, without waiting out
    // the 3 s close grace period.
    expect(Date.now() - closing).toBeLessThan(3000);
    const status = await statusWhen(
      () => getJson<any>(`${producerUrl}/status`),
      (s) => s.clients.length === 0,
      'no client left',
    );
    expect(status.consumerStats.error).toMatch(
      /no reply to a request for pattern 'consumer-stats'/,
    );
    // The request's deadline (DEMO_TRANSPORT.requestTimeoutMs), not longer.
    expect(status.consumerStats.ms).toBeGreaterThanOrEqual(DEMO_TRANSPORT.requestTimeoutMs - 50);
    expect(status.consumerStats.ms).toBeLessThan(DEMO_TRANSPORT.requestTimeoutMs + 2000);
  });
});
