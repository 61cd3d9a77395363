// The NestJS microservice transport against the library's own WorkQueue used directly, in the same
// run, on the same two connections (one for the service, one for the caller), rounds alternating
// which side goes first; each figure is the median of the rounds.
// - events: `client.emit` N events (64 in flight) until the `@EventPattern` handler saw all N,
//   vs. N `WorkQueue.publish` (lingerMs 0, 64 in flight) consumed by `queue.consume`.
// Throughput rounds also give this process's CPU time per message (user + system; the client and
// the service both run here, the ZooKeeper server does not): steadier than the rates on a shared
// machine, and what the transport adds to the queue per message.
// - requests: `client.send` N requests (64 in flight, each awaiting its reply), vs. a hand-built
//   request/response on two WorkQueues: a request queue consumed by a responder that publishes
//   the reply to a reply queue consumed by the requester, which correlates replies by id.
// - paced: one request every 10 ms (100/s, not waiting for each other), round-trip percentiles.
// Targets are printed next to the numbers, never asserted.
import 'reflect-metadata';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { WorkQueue, ZookeeperConnection } from '../libs/zookeeper/src/index.js';
import { ClientZookeeper, ServerZookeeper } from '../libs/zookeeper/src/transport/index.js';
import { BenchContext, quietLogger } from './support/clients.js';
import {
  IN_FLIGHT,
  measured,
  median,
  percentile,
  pool,
  rotated,
  withDeadline,
} from './support/timing.js';

// Rounds long enough (and enough of them) that a garbage collection or a JIT pass does not decide
// a median: 2,000 events at ~25,000/s took 80 ms a round, and the medians moved by 30 % run to run.
const OPS = Number(process.env.BENCH_TRANSPORT_OPS ?? 10_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_TRANSPORT_ROUNDS ?? 5));
/** Paced rounds take PACED / 100 s each: fewer of them. */
const PACED_ROUNDS = Math.max(1, Number(process.env.BENCH_TRANSPORT_PACED_ROUNDS ?? 3));
const PACED = Number(process.env.BENCH_TRANSPORT_PACED ?? 500);
const PACED_INTERVAL_MS = 10;
/** Items each consumer holds at once: the server's default, used for the baselines too. */
const CONSUMERS = 4;
const WARM_UP = 2000;
/** A round that takes longer than this fails the bench instead of hanging it. */
const ROUND_DEADLINE_MS = 120_000;

const EVENT = 'bench-event';
const REQUEST = 'bench-request';

interface Message {
  n: number;
  body: string;
}
const message = (n: number): Message => ({ n, body: 'x'.repeat(100) });
const answer = (m: Message) => m.n + 1;

/** Counts handled events; `expect(n)` resolves once n more have arrived. */
class Arrivals {
  private count = 0;
  private target = Infinity;
  private reached?: () => void;

  hit(): void {
    if (++this.count >= this.target) {
      this.target = Infinity;
      this.reached?.();
    }
  }

  expect(n: number): Promise<void> {
    this.count = 0;
    this.target = n;
    return new Promise<void>((resolve) => (this.reached = resolve));
  }
}

const transportEvents = new Arrivals();

@Controller()
class BenchController {
  @EventPattern(EVENT)
  event(@Payload() _event: Message): void {
    transportEvents.hit();
  }

  @MessagePattern(REQUEST)
  request(@Payload() request: Message): number {
    return answer(request);
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

/** Request/response built by hand on two WorkQueues, correlating replies by id. */
class HandmadeRpc {
  private readonly pending = new Map<number, (result: number) => void>();
  private readonly queues: Array<{ close(): Promise<void> }> = [];
  private nextId = 0;
  errors = 0;

  private constructor(private readonly requests: WorkQueue<{ id: number; data: Message }>) {}

  /** Requests published on the caller's connection, served on the service's. */
  static async start(
    service: ZookeeperConnection,
    caller: ZookeeperConnection,
    path: string,
  ): Promise<HandmadeRpc> {
    const rpc = new HandmadeRpc(new WorkQueue(caller, `${path}/requests`, { lingerMs: 0 }));
    const served = new WorkQueue<{ id: number; data: Message }>(service, `${path}/requests`, {
      lingerMs: 0,
    });
    const replies = new WorkQueue<{ id: number; result: number }>(service, `${path}/replies`, {
      lingerMs: 0,
    });
    const inbox = new WorkQueue<{ id: number; result: number }>(caller, `${path}/replies`, {
      lingerMs: 0,
    });
    rpc.queues.push(rpc.requests, served, replies, inbox);
    // Like the transport's server: the reply is queued, not awaited, before the next request (the
    // server also sends a lone request's reply ahead of its acknowledgement: the same writes).
    await served.consume({ concurrency: CONSUMERS, maxAttempts: 1 }, ({ id, data }) => {
      replies.publish({ id, result: answer(data) }).catch(() => rpc.errors++);
    });
    await inbox.consume({ concurrency: CONSUMERS }, ({ id, result }) => {
      const resolve = rpc.pending.get(id);
      rpc.pending.delete(id);
      resolve?.(result);
    });
    return rpc;
  }

  request(data: Message): Promise<number> {
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, resolve);
      this.requests.publish({ id, data }).catch((error: unknown) => {
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}

/** Messages (or requests) per second for `count` of them, and the CPU time per message. */
const rateWithin = (what: string, count: number, run: () => Promise<void>) =>
  measured(count, () => withDeadline(what, run(), ROUND_DEADLINE_MS));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One request every `PACED_INTERVAL_MS`, none waiting for another; the round trips in ms. */
async function paced(count: number, request: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const replies: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = started + i * PACED_INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    replies.push(request(i).then(() => void latencies.push(performance.now() - sent)));
  }
  await withDeadline('paced requests', Promise.all(replies), ROUND_DEADLINE_MS);
  return latencies;
}

/** The server's round trip now (median of sequential gets): how loaded the machine is. */
async function roundTrip(connection: ZookeeperConnection, path: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await connection.get(path);
    times.push(performance.now() - started);
  }
  return median(times);
}

interface Side {
  events: (count: number) => Promise<void>;
  requests: (count: number) => Promise<void>;
  request: (n: number) => Promise<number>;
}

/** Runs `measure` for both sides, alternating which goes first, `count` times. */
async function rounds<R>(
  label: string,
  count: number,
  sides: { ours: Side; base: Side },
  measure: (side: Side) => Promise<R>,
  show: (result: R) => string,
  progress: (message: string) => void,
): Promise<{ ours: R[]; base: R[] }> {
  const results = { ours: [] as R[], base: [] as R[] };
  for (let round = 0; round < count; round++) {
    for (const name of rotated(['ours', 'base'] as const, round))
      results[name].push(await measure(sides[name]));
    progress(
      `${label} round ${round + 1}/${count}: ours ${show(results.ours[round])}, baseline ${show(results.base[round])}`,
    );
  }
  return results;
}

export async function benchTransport({
  connectString,
  root,
  progress,
  record,
}: BenchContext): Promise<void> {
  const service = await ZookeeperConnection.connect({ connectString, logger: quietLogger });
  const caller = await ZookeeperConnection.connect({ connectString, logger: quietLogger });
  const transportRoot = `${root}/transport`;

  const server = new ServerZookeeper({
    connection: service,
    root: transportRoot,
    defaults: { concurrency: CONSUMERS },
  });
  let serverErrors = 0;
  server.on('error', () => serverErrors++);
  const app: INestMicroservice = await NestFactory.createMicroservice(BenchModule, {
    strategy: server,
    logger: false,
  });
  await app.listen();
  const client = new ClientZookeeper({ connection: caller, root: transportRoot });
  await client.connect();

  // Baseline events: the queue published to from the caller's connection, consumed on the service's.
  const eventQueue = new WorkQueue<Message>(caller, `${root}/handmade/events`, { lingerMs: 0 });
  const eventConsumer = new WorkQueue<Message>(service, `${root}/handmade/events`, {
    lingerMs: 0,
  });
  const baseEvents = new Arrivals();
  await eventConsumer.consume({ concurrency: CONSUMERS }, () => baseEvents.hit());
  const rpc = await HandmadeRpc.start(service, caller, `${root}/handmade/rpc`);

  let wrongReplies = 0;
  const check = (n: number) => (result: number) => {
    if (result !== n + 1) wrongReplies++;
    return result;
  };
  const ours: Side = {
    async events(count) {
      const all = transportEvents.expect(count);
      await pool(count, (i) =>
        lastValueFrom(client.emit(EVENT, message(i)), { defaultValue: undefined }),
      );
      await all;
    },
    async requests(count) {
      await pool(count, (i) => ours.request(i));
    },
    request: (n) => firstValueFrom(client.send<number>(REQUEST, message(n))).then(check(n)),
  };
  const base: Side = {
    async events(count) {
      const all = baseEvents.expect(count);
      await pool(count, (i) => eventQueue.publish(message(i)));
      await all;
    },
    async requests(count) {
      await pool(count, (i) => base.request(i));
    },
    request: (n) => rpc.request(message(n)).then(check(n)),
  };
  const sides = { ours, base };

  progress(
    `warm-up, then ${ROUNDS} rounds each of events and requests, ${PACED_ROUNDS} of paced requests`,
  );
  for (const side of [ours, base]) {
    await withDeadline('warm-up', side.events(WARM_UP), ROUND_DEADLINE_MS);
    await withDeadline('warm-up', side.requests(WARM_UP), ROUND_DEADLINE_MS);
  }

  const started = performance.now();
  const rttBefore = await roundTrip(caller, root);
  console.log(
    `\ntransport (NestJS microservice) vs the WorkQueue used directly: ${OPS} messages per round, ` +
      `${IN_FLIGHT} in flight, consumers holding ${CONSUMERS} items; paced: ${PACED} requests at ` +
      `${1000 / PACED_INTERVAL_MS}/s; medians of ${ROUNDS} rounds (paced: ${PACED_ROUNDS}), alternating which side goes first; ` +
      `server round trip (sequential get, median) ${rttBefore.toFixed(2)} ms`,
  );
  const perSecond = ({ rate, cpuUsPerOp }: { rate: number; cpuUsPerOp: number }) =>
    `${rate.toFixed(0)}/s (${cpuUsPerOp.toFixed(1)} µs CPU/msg)`;
  const events = await rounds(
    'events',
    ROUNDS,
    sides,
    (side) => rateWithin('events', OPS, () => side.events(OPS)),
    perSecond,
    progress,
  );
  const requests = await rounds(
    'requests',
    ROUNDS,
    sides,
    (side) => rateWithin('requests', OPS, () => side.requests(OPS)),
    perSecond,
    progress,
  );
  const latency = await rounds(
    'paced',
    PACED_ROUNDS,
    sides,
    async (side) => {
      const latencies = await paced(PACED, (i) => side.request(i));
      return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    },
    ({ p50, p99 }) => `p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms`,
    progress,
  );

  const rttAfter = await roundTrip(caller, root);
  const rateOf = (results: Array<{ rate: number }>) => median(results.map((r) => r.rate));
  const cpuOf = (results: Array<{ cpuUsPerOp: number }>) =>
    median(results.map((r) => r.cpuUsPerOp));
  const eventRates = { ours: rateOf(events.ours), base: rateOf(events.base) };
  const requestRates = { ours: rateOf(requests.ours), base: rateOf(requests.base) };
  const eventCpu = { ours: cpuOf(events.ours), base: cpuOf(events.base) };
  const requestCpu = { ours: cpuOf(requests.ours), base: cpuOf(requests.base) };
  const p = (side: 'ours' | 'base', key: 'p50' | 'p99') =>
    median(latency[side].map((result) => result[key]));
  const row = (name: string, baseValue: string, oursValue: string, ratio: string, target: string) =>
    console.log(
      `${name.padEnd(24)} ${baseValue.padStart(17)} ${oursValue.padStart(17)} ${ratio.padStart(10)}   ${target}`,
    );
  console.log(
    `${'workload'.padEnd(24)} ${'baseline'.padStart(17)} ${'ours'.padStart(17)} ${'ours/base'.padStart(10)}   target`,
  );
  row(
    'events msg/s',
    eventRates.base.toFixed(0),
    eventRates.ours.toFixed(0),
    (eventRates.ours / eventRates.base).toFixed(2),
    '(target ours/base ≥ 0.8)',
  );
  row(
    'events µs CPU/msg',
    eventCpu.base.toFixed(1),
    eventCpu.ours.toFixed(1),
    (eventCpu.ours / eventCpu.base).toFixed(2),
    '(client and service in this process; medians of the rounds)',
  );
  row(
    'requests req/s',
    requestRates.base.toFixed(0),
    requestRates.ours.toFixed(0),
    (requestRates.ours / requestRates.base).toFixed(2),
    '(target ours ≥ 1000/s)',
  );
  row(
    'requests µs CPU/req',
    requestCpu.base.toFixed(1),
    requestCpu.ours.toFixed(1),
    (requestCpu.ours / requestCpu.base).toFixed(2),
    '',
  );
  row(
    'paced 100/s p50/p99 ms',
    `${p('base', 'p50').toFixed(1)} / ${p('base', 'p99').toFixed(1)}`,
    `${p('ours', 'p50').toFixed(1)} / ${p('ours', 'p99').toFixed(1)}`,
    (p('ours', 'p50') / p('base', 'p50')).toFixed(2),
    '(target ours p50 ≤ 5 ms; ratio of p50s)',
  );
  record.setting(
    `the NestJS transport against the WorkQueue used directly (events) and a request/response ` +
      `built by hand on two WorkQueues (requests), on the same two connections; ${OPS} messages ` +
      `per round, ${IN_FLIGHT} in flight, consumers holding ${CONSUMERS} items; paced: ${PACED} ` +
      `requests at ${1000 / PACED_INTERVAL_MS}/s; medians of ${ROUNDS} rounds (paced: ${PACED_ROUNDS}), alternating which ` +
      `side goes first`,
  );
  record.setting(
    `server round trip (sequential get, median) ${rttBefore.toFixed(2)} ms before the rounds, ` +
      `${rttAfter.toFixed(2)} ms after`,
  );
  record.workload({
    name: 'events (client.emit vs WorkQueue.publish)',
    unit: 'msgs/s',
    ours: { name: 'transport', rate: eventRates.ours, cpuUsPerOp: eventCpu.ours },
    baseline: { name: 'WorkQueue directly', rate: eventRates.base, cpuUsPerOp: eventCpu.base },
    ratio: eventRates.ours / eventRates.base,
  });
  record.workload({
    name: 'requests (client.send vs hand-made rpc)',
    unit: 'req/s',
    ours: { name: 'transport', rate: requestRates.ours, cpuUsPerOp: requestCpu.ours },
    baseline: {
      name: 'hand-made rpc on WorkQueues',
      rate: requestRates.base,
      cpuUsPerOp: requestCpu.base,
    },
    ratio: requestRates.ours / requestRates.base,
  });
  record.workload({
    name: `paced ${1000 / PACED_INTERVAL_MS}/s round trips`,
    unit: 'ms',
    ours: { name: 'transport', p50Ms: p('ours', 'p50'), p99Ms: p('ours', 'p99') },
    baseline: {
      name: 'hand-made rpc on WorkQueues',
      p50Ms: p('base', 'p50'),
      p99Ms: p('base', 'p99'),
    },
    ratio: p('ours', 'p50') / p('base', 'p50'),
    ratioOf: 'p50',
  });
  record.target({
    what: 'events: transport ≥ 0.8× the WorkQueue used directly',
    measured: (eventRates.ours / eventRates.base).toFixed(2),
    met: eventRates.ours / eventRates.base >= 0.8,
  });
  record.target({
    what: 'requests: transport ≥ 1,000/s',
    measured: `${requestRates.ours.toFixed(0)}/s`,
    met: requestRates.ours >= 1000,
  });
  record.target({
    what: `paced ${1000 / PACED_INTERVAL_MS}/s: transport p50 ≤ 5 ms`,
    measured: `${p('ours', 'p50').toFixed(1)} ms`,
    met: p('ours', 'p50') <= 5,
  });
  console.log(
    `server round trip after the rounds: ${rttAfter.toFixed(2)} ms; ` +
      `transport rounds took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  if (serverErrors || rpc.errors || wrongReplies) {
    console.log(
      `errors: server ${serverErrors}, baseline replies ${rpc.errors}, wrong replies ${wrongReplies}`,
    );
    record.note(
      `errors: server ${serverErrors}, baseline replies ${rpc.errors}, wrong replies ${wrongReplies}`,
    );
  }

  await client.close();
  await app.close();
  await eventQueue.close();
  await eventConsumer.close();
  await rpc.close();
  await service.close();
  await caller.close();
}
