import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { InvalidOptionsError } from 'nestjs-zookeeper';
import { ClientZookeeper, ServerZookeeper, TransportStateError } from 'nestjs-zookeeper/transport';
import { TestConnections, testNamespace } from '../support/connect.js';
import { until } from '../support/until.js';

// ServerZookeeper.setConcurrency against a real ZooKeeper: a queued pattern's consumer is stopped
// and started again with another concurrency, with no item lost or handled twice.
const connections = new TestConnections(testNamespace('transport-concurrency'));
const ROOT = '/svc';
const JOB_MS = 150;

/** Each handled job: its id and how many jobs ran at its start (itself included). */
const started: Array<{ id: number; running: number }> = [];
let running = 0;

@Controller()
class SlowController {
  @EventPattern<string>('slow-job', { concurrency: 1 })
  async work(@Payload() job: { id: number }): Promise<void> {
    started.push({ id: job.id, running: ++running });
    await new Promise((resolve) => setTimeout(resolve, JOB_MS));
    running--;
  }

  @MessagePattern('ping')
  ping(): string {
    return 'pong';
  }

  @EventPattern<string>('everyone', { broadcast: true })
  everyone(): void {}
}

@Module({ controllers: [SlowController] })
class SlowModule {}

let server: ServerZookeeper;
let service: INestMicroservice;
let client: ClientZookeeper;

beforeAll(async () => {
  server = new ServerZookeeper({ connection: await connections.open(), root: ROOT });
  service = await NestFactory.createMicroservice(SlowModule, { strategy: server, logger: false });
  await service.listen();
  client = new ClientZookeeper({ connection: await connections.open(), root: ROOT });
  await client.connect();
});

afterAll(async () => {
  await client.close();
  await service.close();
  await connections.closeAll();
});

/** Emits jobs `from`..`to`, one item each (each emit awaited). */
async function emitJobs(from: number, to: number): Promise<void> {
  for (let id = from; id <= to; id++) await lastValueFrom(client.emit('slow-job', { id }));
}

function handledIds(): number[] {
  return started.map((job) => job.id).sort((a, b) => a - b);
}

describe('ServerZookeeper.setConcurrency', () => {
  it('raises a pattern from 1 to 3 while its items flow: up to 3 handlers at once, none lost or run twice', async () => {
    started.length = 0;
    expect(server.concurrencyOf('slow-job')).toBe(1);
    await emitJobs(1, 18);
    await until(() => started.length >= 3, { message: 'three jobs started' });
    const before = started.length;
    expect(await server.setConcurrency('slow-job', 3)).toBe(1);
    expect(server.concurrencyOf('slow-job')).toBe(3);
    await until(() => started.length >= 18 && running === 0, {
      message: () => `all 18 jobs handled; got ${JSON.stringify(handledIds())}`,
    });
    // One at a time until the change (the old consumer finished its job before it stopped).
    expect(Math.max(...started.slice(0, before).map((job) => job.running))).toBe(1);
    expect(Math.max(...started.map((job) => job.running))).toBe(3);
    // Nothing more comes: no item was given back twice or left behind.
    await new Promise((resolve) => setTimeout(resolve, 2 * JOB_MS));
    expect(handledIds()).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  });

  it('resizes again and again while items flow, in turn, and each item still runs once', async () => {
    started.length = 0;
    const sending = emitJobs(101, 140);
    const sizes = [2, 1, 3, 3, 2];
    const previous: number[] = [];
    for (const size of sizes) {
      await until(() => started.length >= previous.length * 5, { message: 'jobs flowing' });
      previous.push(await server.setConcurrency('slow-job', size));
    }
    // Each call saw the concurrency the one before it set.
    expect(previous).toEqual([3, 2, 1, 3, 3]);
    await sending;
    await until(() => started.length >= 40 && running === 0, {
      message: () => `all 40 jobs handled; got ${JSON.stringify(handledIds())}`,
    });
    await new Promise((resolve) => setTimeout(resolve, 2 * JOB_MS));
    expect(handledIds()).toEqual(Array.from({ length: 40 }, (_, i) => i + 101));
    expect(Math.max(...started.map((job) => job.running))).toBeLessThanOrEqual(3);
  });

  it('resizes a request pattern, which goes on answering', async () => {
    await server.setConcurrency('ping', 7);
    expect(server.concurrencyOf('ping')).toBe(7);
    expect(await firstValueFrom(client.send('ping', {}))).toBe('pong');
  });

  it('refuses a broadcast or unknown pattern, and a concurrency that is not a count', async () => {
    await expect(server.setConcurrency('everyone', 2)).rejects.toThrow(TransportStateError);
    await expect(server.setConcurrency('nothing', 2)).rejects.toThrow(/no queued pattern/);
    await expect(server.setConcurrency('slow-job', 0)).rejects.toThrow(InvalidOptionsError);
    await expect(server.setConcurrency('slow-job', 1.5)).rejects.toThrow(
      /'concurrency' must be an integer of at least 1, got 1\.5/,
    );
    expect(server.concurrencyOf('everyone')).toBeUndefined();
  });
});
