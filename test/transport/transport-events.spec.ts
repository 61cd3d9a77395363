// The per-event path of the transport, which the speed work of issue #11 trimmed: every event still
// passes Nest's processing hooks with a complete ZookeeperContext (path, index, attempt, session,
// metadata), emit keeps Nest's semantics (hot, a late subscriber sees the completion, nil refused),
// and the session id a context reports follows a new session.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { ConnectionState, ZookeeperConnection } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import {
  ClientZookeeper,
  ServerZookeeper,
  ZOOKEEPER_TRANSPORT,
  ZookeeperContext,
} from 'nestjs-zookeeper/transport';
import { nextState, TestConnections, testNamespace } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = new TestConnections(testNamespace('transport-events'));
const ROOT = '/svc';

interface Seen {
  n: number;
  path: string;
  index: number | undefined;
  attempt: number;
  sessionId: string;
  metadata: unknown;
}
const handled: Seen[] = [];

@Controller()
class TracedController {
  @EventPattern<string>('traced')
  traced(@Payload() event: { n: number }, @Ctx() context: ZookeeperContext): void {
    handled.push({
      n: event.n,
      path: context.getPath(),
      index: context.getIndex(),
      attempt: context.getAttempt(),
      sessionId: context.getSessionId(),
      metadata: context.getMetadata(),
    });
  }
}

@Module({ controllers: [TracedController] })
class TracedModule {}

let connection: ZookeeperConnection;
let server: ServerZookeeper;
let service: INestMicroservice;
let client: ClientZookeeper;
const starts: Array<{ transport: unknown; context: unknown }> = [];
const ends: Array<{ transport: unknown; context: unknown }> = [];

beforeAll(async () => {
  connection = await connections.open();
  server = new ServerZookeeper({ connection, root: ROOT, defaults: { concurrency: 4 } });
  server.setOnProcessingStartHook((transport, context, done) => {
    starts.push({ transport, context });
    return done();
  });
  server.setOnProcessingEndHook((transport, context) => ends.push({ transport, context }));
  service = await NestFactory.createMicroservice(TracedModule, { strategy: server, logger: false });
  await service.listen();
  client = new ClientZookeeper({ connection: await connections.open(), root: ROOT });
  client.setOnDispatchHook((packet) => {
    packet.metadata = { traceparent: `00-${(packet.data as { n: number }).n}-01` };
  });
  await client.connect();
});

afterAll(async () => {
  await client.close();
  await service.close();
  await connections.closeAll();
});

const handledOf = (n: number) => handled.find((seen) => seen.n === n);

describe('events through the transport', () => {
  it('every event passes the processing hooks with its context, metadata and session', async () => {
    handled.length = 0;
    starts.length = 0;
    ends.length = 0;
    // Many at once, so the queue batches them: several events share one item.
    await Promise.all(
      Array.from({ length: 200 }, (_, n) => lastValueFrom(client.emit('traced', { n }))),
    );
    await until(() => handled.length >= 200 && ends.length >= 200, {
      message: () => `200 events handled (${handled.length}) and ended (${ends.length})`,
    });
    expect(handled.map((seen) => seen.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, n) => n),
    );
    expect(starts).toHaveLength(200);
    expect(ends).toHaveLength(200);
    for (const hook of [...starts, ...ends]) {
      expect(hook.transport).toBe(ZOOKEEPER_TRANSPORT);
      expect(hook.context).toBeInstanceOf(ZookeeperContext);
    }
    // The end hook sees the context the start hook saw, once per event.
    expect(new Set(ends.map((hook) => hook.context))).toEqual(
      new Set(starts.map((hook) => hook.context)),
    );
    const items = new Set<string>();
    for (const seen of handled) {
      expect(seen.metadata).toEqual({ traceparent: `00-${seen.n}-01` });
      expect(seen.sessionId).toBe(connection.session.id);
      expect(seen.attempt).toBe(1);
      expect(seen.path).toMatch(/^\/svc\/events\/traced\/items[^/]*\/[^/]+$/);
      expect(seen.index).toEqual(expect.any(Number));
      items.add(seen.path);
    }
    // Each item's messages carry their own index, 0..count-1.
    for (const path of items) {
      const indexes = handled.filter((seen) => seen.path === path).map((seen) => seen.index);
      expect(indexes.sort((a, b) => a! - b!)).toEqual(indexes.map((_, i) => i));
    }
  });

  it('emit publishes without a subscriber; a late subscriber gets the completion', async () => {
    const emitted = client.emit('traced', { n: 1000 });
    await until(() => handledOf(1000) !== undefined, { message: 'the unsubscribed event handled' });
    await expect(lastValueFrom(emitted, { defaultValue: 'completed' })).resolves.toBe('completed');
  });

  it('emit with a nil pattern or data is refused as by Nest, nothing published', async () => {
    await expect(lastValueFrom(client.emit('traced', undefined))).rejects.toThrow(
      /invalid data or message pattern/,
    );
    await expect(lastValueFrom(client.emit(null, { n: 1 }))).rejects.toThrow(
      /invalid data or message pattern/,
    );
  });

  it('a failed publish fails the emit, for subscribers before and after', async () => {
    const closed = new ClientZookeeper({ connection: await connections.open(), root: ROOT });
    await closed.connect();
    await closed.close();
    const emitted = closed.emit('traced', { n: 2000 });
    await expect(lastValueFrom(emitted)).rejects.toThrow();
    await expect(lastValueFrom(emitted)).rejects.toThrow();
  });

  it('after a new session, the contexts report the new session id', async () => {
    await lastValueFrom(client.emit('traced', { n: 2999 }));
    await until(() => handledOf(2999) !== undefined, { message: 'an event before the expiry' });
    const before = connection.session.id;
    expect(handledOf(2999)!.sessionId).toBe(before);
    const renewed = nextState(connection, ConnectionState.CONNECTED);
    await expireSession(connection);
    await renewed;
    expect(connection.session.id).not.toBe(before);
    await lastValueFrom(client.emit('traced', { n: 3000 }));
    await until(() => handledOf(3000) !== undefined, {
      timeoutMs: 30_000,
      message: 'an event handled after the new session',
    });
    expect(handledOf(3000)!.sessionId).toBe(connection.session.id);
  });
});
