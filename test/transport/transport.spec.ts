import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom, of, timeout, toArray } from 'rxjs';
import { MessageTooLargeError, WorkQueue, ZookeeperConnection } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import {
  ClientZookeeper,
  RequestSessionLostError,
  RequestTimeoutError,
  ServerZookeeper,
  ZookeeperContext,
} from 'nestjs-zookeeper/transport';
import { TestConnections, testNamespace } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = new TestConnections(testNamespace('transport'));
const ROOT = '/svc';

/** What the handlers saw, per test, asserted in the test bodies. */
const seen = {
  orders: [] as number[],
  failures: 0,
  metadata: [] as unknown[],
  manual: [] as number[],
};

@Controller()
class MathController {
  @MessagePattern('sum')
  sum(@Payload() numbers: number[]): number {
    return numbers.reduce((a, b) => a + b, 0);
  }

  @MessagePattern('echo')
  echo(@Payload() value: unknown, @Ctx() context: ZookeeperContext): unknown {
    seen.metadata.push(context.getMetadata());
    return value;
  }

  @MessagePattern('count')
  count(@Payload() n: number) {
    return of(...Array.from({ length: n }, (_, i) => i + 1));
  }

  @MessagePattern('refuse')
  refuse(): never {
    throw new RpcException({ code: 'NOPE', reason: 'refused on purpose' });
  }

  @MessagePattern('crash')
  crash(): never {
    throw new Error('plain failure');
  }

  @EventPattern('order-placed')
  placed(@Payload() order: { n: number }): void {
    seen.orders.push(order.n);
  }

  @EventPattern<string>('settled-by-hand', { manualAck: true, maxAttempts: 3 })
  byHand(@Payload() _event: unknown, @Ctx() context: ZookeeperContext): void {
    seen.manual.push(context.getAttempt());
    // Returning settles nothing: the first attempt is nacked later, the second acked.
    setTimeout(
      () => (context.getAttempt() === 1 ? context.nack(new Error('again')) : context.ack()),
      20,
    );
  }

  @EventPattern('always-fails', { maxAttempts: 2 })
  fails(@Payload() _event: unknown): void {
    seen.failures++;
    throw new Error('always fails');
  }
}

@Module({ controllers: [MathController] })
class ServiceModule {}

let connection: ZookeeperConnection;
let server: ServerZookeeper;
const serverErrors: Error[] = [];
let service: INestMicroservice;
let client: ClientZookeeper;

/**
 * The server connection's calls, observed in the order sent (passed through to the real server):
 * reply creates, and acknowledgements, which delete the request item (in a transaction with
 * multi, by a delete of its own without). One session: the server applies them in that order.
 */
function observeServerCalls(observed: ZookeeperConnection): {
  order: string[];
  restore: () => void;
} {
  const order: string[] = [];
  const { create, multi, delete: remove } = observed;
  const acknowledged = (path: string) => {
    if (path.includes('/items/')) order.push('request acknowledged');
  };
  observed.create = ((...args: Parameters<typeof create>) => {
    if (args[0].includes('/replies/')) order.push('reply sent');
    return create.apply(observed, args);
  }) as typeof create;
  observed.multi = ((ops: Parameters<typeof multi>[0]) => {
    const deletes = ops.filter((op) => op.type === 'delete');
    if (deletes.some((op) => op.path.includes('/items/'))) acknowledged('/items/');
    return multi.call(observed, ops);
  }) as typeof multi;
  observed.delete = ((...args: Parameters<typeof remove>) => {
    acknowledged(args[0]);
    return remove.apply(observed, args);
  }) as typeof remove;
  const restore = () => {
    observed.create = create;
    observed.multi = multi;
    observed.delete = remove;
  };
  return { order, restore };
}

async function startService(strategy: ServerZookeeper): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(ServiceModule, { strategy, logger: false });
  await app.listen();
  return app;
}

beforeAll(async () => {
  connection = await connections.open();
  server = new ServerZookeeper({ connection, root: ROOT });
  server.on('error', (error) => serverErrors.push(error));
  service = await startService(server);
  client = new ClientZookeeper({ connection: await connections.open(), root: ROOT });
  await client.connect();
});

afterAll(async () => {
  await client.close();
  await service.close();
  await connections.closeAll();
});

describe('requests (@MessagePattern)', () => {
  it('answers a request with its own reply', async () => {
    expect(await firstValueFrom(client.send('sum', [1, 2, 3]))).toBe(6);
  });

  it('answers 1,000 concurrent requests, each with its own reply', async () => {
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => firstValueFrom(client.send<number>('sum', [i, 1]))),
    );
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('sends a reply ahead of the acknowledgement of its request', async () => {
    // After the burst of the test before, one lone request first: the outbox batches while
    // replies come in bursts, and sends at once again once they come one at a time.
    expect(await firstValueFrom(client.send('sum', [1, 1]))).toBe(2);
    const calls = observeServerCalls(connection);
    try {
      expect(await firstValueFrom(client.send('sum', [2, 3]))).toBe(5);
      await until(() => calls.order.length >= 2, { message: 'the acknowledgement' });
    } finally {
      calls.restore();
    }
    // Before: acknowledged first, so a server stopped in between lost the reply (the client
    // waited out its timeout), and the reply's write queued behind the acknowledgement's fsync.
    expect(calls.order).toEqual(['reply sent', 'request acknowledged']);
  });

  it('sends every value of a lone streamed reply ahead of the acknowledgement', async () => {
    expect(await firstValueFrom(client.send('sum', [1, 1]))).toBe(2);
    const calls = observeServerCalls(connection);
    try {
      expect(await lastValueFrom(client.send('count', 3).pipe(toArray()))).toEqual([1, 2, 3]);
      await until(() => calls.order.includes('request acknowledged'), {
        message: 'the acknowledgement',
      });
    } finally {
      calls.restore();
    }
    // The first value goes at once, the others queue behind its write: before, the request
    // settled then, and its acknowledgement went ahead of the batch with the last values.
    expect(calls.order.at(-1)).toBe('request acknowledged');
    expect(calls.order.filter((call) => call === 'reply sent').length).toBeGreaterThanOrEqual(2);
  });

  it('answers with an error when a raw handler rejects, and settles the request', async () => {
    const root = '/svc-raw';
    const raw = new ServerZookeeper({ connection, root });
    const errors: Error[] = [];
    raw.on('error', (error) => errors.push(error));
    raw.addHandler('raw-reject', () => Promise.reject(new Error('raw handler failed')));
    await new Promise<void>((resolve, reject) =>
      raw.listen((error) => (error ? reject(error) : resolve())),
    );
    const caller = new ClientZookeeper({ connection, root, requestTimeoutMs: 20_000 });
    try {
      // Before: no reply and an unsettled request; the caller waited for its timeout.
      await expect(firstValueFrom(caller.send('raw-reject', 1))).rejects.toEqual({
        status: 'error',
        message: 'Internal server error',
      });
      expect(errors.map((error) => error.message)).toContain('raw handler failed');
    } finally {
      await caller.close();
      await raw.close();
    }
  });

  it('streams an Observable result and completes', async () => {
    expect(await lastValueFrom(client.send('count', 4).pipe(toArray()))).toEqual([1, 2, 3, 4]);
  });

  it('carries an RpcException payload and a plain error back to the caller', async () => {
    await expect(firstValueFrom(client.send('refuse', {}))).rejects.toEqual({
      code: 'NOPE',
      reason: 'refused on purpose',
    });
    await expect(firstValueFrom(client.send('crash', {}))).rejects.toMatchObject({
      status: 'error',
    });
  });

  it('carries the packet metadata (trace context) to the handler', async () => {
    const traced = new ClientZookeeper({ connection, root: ROOT });
    traced.setOnDispatchHook((packet) => (packet.metadata = { traceparent: '00-abc-01' }));
    expect(await firstValueFrom(traced.send('echo', 'hi'))).toBe('hi');
    expect(seen.metadata.at(-1)).toEqual({ traceparent: '00-abc-01' });
    await traced.close();
  });

  it('fails a request nobody answers with a typed error naming the pattern', async () => {
    const impatient = new ClientZookeeper({ connection, root: ROOT, requestTimeoutMs: 300 });
    const failure = firstValueFrom(impatient.send('nobody-serves-this', 1));
    await expect(failure).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(failure).rejects.toThrow(/'nobody-serves-this'/);
    await impatient.close();
  });
});

describe('events (@EventPattern)', () => {
  it('emit completes once the event is stored, and one handler receives each event', async () => {
    for (let n = 0; n < 20; n++) await lastValueFrom(client.emit('order-placed', { n }));
    await until(() => seen.orders.length >= 20, { message: '20 events handled' });
    expect([...seen.orders].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a handler that always throws is retried, then its event is dead-lettered', async () => {
    await lastValueFrom(client.emit('always-fails', { doomed: true }));
    const queue = new WorkQueue(connection, `${ROOT}/events/always-fails`);
    await until(async () => (await queue.deadLetters()).length === 1, {
      message: 'the event in the dead letters',
    });
    expect(seen.failures).toBe(2);
    expect((await queue.deadLetters())[0].message).toMatchObject({
      pattern: 'always-fails',
      data: { doomed: true },
    });
  });

  it('manualAck: the handler settles with ctx.nack() (retried) and ctx.ack()', async () => {
    await lastValueFrom(client.emit('settled-by-hand', {}));
    await until(() => seen.manual.length === 2, { message: 'two attempts' });
    expect(seen.manual).toEqual([1, 2]);
    const queue = new WorkQueue(connection, `${ROOT}/events/settled-by-hand`);
    await until(async () => (await queue.pendingItems()) === 0, { message: 'the item finished' });
    expect(await queue.deadLetters()).toEqual([]);
  });

  it('a payload above the znode limit is refused with a typed error, nothing written', async () => {
    const huge = 'x'.repeat(2_000_000);
    await expect(lastValueFrom(client.emit('order-placed', huge))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    await expect(firstValueFrom(client.send('sum', huge))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
  });

  it('a bad packet is reported and skipped; the server goes on', async () => {
    serverErrors.length = 0;
    const queue = new WorkQueue(connection, `${ROOT}/events/order-placed`, { lingerMs: 0 });
    const before = seen.orders.length;
    await queue.publish(['not a packet', { pattern: 42 }, { pattern: 'unknown', data: 1 }]);
    await lastValueFrom(client.emit('order-placed', { n: 100 }));
    await until(() => seen.orders.includes(100), { message: 'the good event after the bad ones' });
    expect(seen.orders.length).toBe(before + 1);
    expect(serverErrors.map((error) => error.name)).toEqual([
      'InvalidPacketError',
      'InvalidPacketError',
      'InvalidPacketError',
    ]);
    expect(serverErrors.map((error) => error.message.replace(/^'[^']*': /, ''))).toEqual([
      'not a transport packet: no string `pattern`',
      'not a transport packet: no string `pattern`',
      "not a transport packet: no event handler for pattern 'unknown'",
    ]);
  });
});

describe('broadcast events', () => {
  it('every instance receives every broadcast event, in order', async () => {
    const received = new Map<string, number[]>();
    @Controller()
    class TickController {
      @EventPattern<string>('tick', { broadcast: true })
      tick(@Payload() n: number, @Ctx() context: ZookeeperContext): void {
        const id = context.getSessionId();
        received.set(id, [...(received.get(id) ?? []), n]);
      }
    }
    @Module({ controllers: [TickController] })
    class TickModule {}
    const apps = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const app = await NestFactory.createMicroservice(TickModule, {
          strategy: new ServerZookeeper({
            connection: await connections.open(),
            root: ROOT,
            subscriberId: `tick-${name}`,
          }),
          logger: false,
        });
        await app.listen();
        return app;
      }),
    );
    for (let n = 1; n <= 30; n++) await lastValueFrom(client.emit('tick', n));
    await until(() => received.size === 2 && [...received.values()].every((l) => l.length >= 30), {
      message: 'both instances received 30 ticks',
    });
    for (const list of received.values()) {
      expect(list).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    await Promise.all(apps.map((app) => app.close()));
  });
});

describe('broadcast subscription failures', () => {
  it('a failed broadcast subscription is reported and started again, not silently dropped', async () => {
    const received: number[] = [];
    @Controller()
    class ResilientController {
      @EventPattern('tock', { broadcast: true })
      tock(@Payload() n: number): void {
        received.push(n);
      }
    }
    @Module({ controllers: [ResilientController] })
    class ResilientModule {}
    // A corrupt stored offset makes the subscription fail at start.
    const offsetPath = `${ROOT}/broadcast/tock/offsets/resilient`;
    await connection.create(offsetPath, 'not an offset', { createParents: true });
    const errors: Error[] = [];
    const strategy = new ServerZookeeper({
      connection: await connections.open(),
      root: ROOT,
      subscriberId: 'resilient',
    });
    strategy.on('error', (error) => errors.push(error));
    const app = await NestFactory.createMicroservice(ResilientModule, { strategy, logger: false });
    await app.listen();
    await until(() => errors.some((error) => /not a stored offset/.test(error.message)), {
      message: 'the failed subscription reported',
    });
    await connection.delete(offsetPath);
    for (let n = 1; n <= 3; n++) await lastValueFrom(client.emit('tock', n));
    await until(() => received.length >= 3, {
      message: 'the events after the subscription recovered',
    });
    expect(received).toEqual([1, 2, 3]);
    await app.close();
  });
});

describe('withdrawal, expiry and close', () => {
  it('a request withdrawn before any server took it is never handled', async () => {
    let handled = 0;
    @Controller()
    class LateController {
      @MessagePattern('late')
      late(): string {
        handled++;
        return 'too late';
      }
    }
    @Module({ controllers: [LateController] })
    class LateModule {}
    // No server serves 'late' yet: the caller gives up (timeout() unsubscribes).
    await expect(firstValueFrom(client.send('late', 1).pipe(timeout(200)))).rejects.toThrow(
      /Timeout/,
    );
    const markers = () => connection.getChildren(`${ROOT}/withdrawn`).catch(() => []);
    await until(async () => (await markers()).length > 0, {
      message: 'the withdrawal marker',
    });
    const app = await NestFactory.createMicroservice(LateModule, {
      strategy: new ServerZookeeper({ connection: await connections.open(), root: ROOT }),
      logger: false,
    });
    await app.listen();
    // A request sent now is answered, so the withdrawn one (earlier in the queue) was taken first.
    expect(await firstValueFrom(client.send('late', 2))).toBe('too late');
    expect(handled).toBe(1);
    await app.close();
  });

  it('requests pending when the session expires fail with a typed error; new ones work', async () => {
    const own = await connections.open();
    const expiring = new ClientZookeeper({ connection: own, root: ROOT, requestTimeoutMs: 60_000 });
    await expiring.connect();
    const lost = firstValueFrom(expiring.send('nobody-serves-this-either', 1));
    // Pending means stored: a publish still in flight when the session ends fails as a publish.
    const items = `${ROOT}/requests/nobody-serves-this-either/items`;
    await until(async () => (await connection.getChildren(items).catch(() => [])).length === 1, {
      message: 'the request stored',
    });
    const statuses: string[] = [];
    expiring.status.subscribe((status) => statuses.push(status));
    await expireSession(own);
    await expect(lost).rejects.toBeInstanceOf(RequestSessionLostError);
    expect(statuses).toContain('session-lost');
    await until(() => statuses.at(-1) === 'connected', { message: 'connected again' });
    expect(await firstValueFrom(expiring.send('sum', [2, 2]))).toBe(4);
    await expiring.close();
  });

  it('close() lets a handler in flight finish before the server stops', async () => {
    let finished = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    @Controller()
    class SlowController {
      @EventPattern('slow')
      async slow(@Payload() _event: unknown): Promise<void> {
        started();
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished++;
      }
    }
    @Module({ controllers: [SlowController] })
    class SlowModule {}
    const app = await NestFactory.createMicroservice(SlowModule, {
      strategy: new ServerZookeeper({ connection: await connections.open(), root: ROOT }),
      logger: false,
    });
    await app.listen();
    await lastValueFrom(client.emit('slow', {}));
    await running;
    await app.close();
    expect(finished).toBe(1);
    const queue = new WorkQueue(connection, `${ROOT}/events/slow`);
    expect(await queue.pendingItems()).toBe(0);
  });
});
