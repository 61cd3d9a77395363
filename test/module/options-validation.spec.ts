import { describe, expect, it } from '@jest/globals';
import {
  BroadcastLog,
  ConsumeOptions,
  InvalidOptionsError,
  WorkQueue,
  ZookeeperConnection,
  ZookeeperOptions,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { ZookeeperHealthIndicator } from 'nestjs-zookeeper/health';
import { ClientZookeeper, ServerZookeeper } from 'nestjs-zookeeper/transport';
import { silentLogger } from '../support/connect.js';

// Every option is checked where it is received, before anything is built or sent: no server
// is needed (the connections here are never opened).
const base: ZookeeperOptions = { connectString: '127.0.0.1:2181', logger: silentLogger };
const connection = (options: Partial<ZookeeperOptions> = {}) =>
  new ZookeeperConnection({ ...base, ...options });
const zk = connection();
const nativeZk = connection({ driver: 'native' });
/** The server's 40-bit TTL limit applies on the wire driver (native sends 32 bits). */
const wireZk = connection({ driver: 'wire' });

/** The error a call throws or rejects with. */
async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

type Case = [promise: string, call: () => unknown, message: RegExp];

const connectionCases: Case[] = [
  [
    'a NaN session timeout is refused',
    () => connection({ sessionTimeoutMs: NaN }),
    /ZookeeperConnection: 'sessionTimeoutMs' must be an integer, at least 1 and at most 2147483647, got NaN/,
  ],
  [
    'a zero session timeout is refused',
    () => connection({ sessionTimeoutMs: 0 }),
    /'sessionTimeoutMs'.*got 0/,
  ],
  [
    'a fractional session timeout is refused',
    () => connection({ sessionTimeoutMs: 1.5 }),
    /'sessionTimeoutMs' must be an integer/,
  ],
  [
    'a zero connect timeout is refused',
    () => connection({ connectTimeoutMs: 0 }),
    /'connectTimeoutMs' must be a finite number, above 0 and at most 2147483647, got 0/,
  ],
  [
    'a connect timeout beyond setTimeout is refused',
    () => connection({ connectTimeoutMs: 2 ** 31 }),
    /'connectTimeoutMs'.*got 2147483648/,
  ],
  [
    'a negative retry count is refused',
    () => connection({ retry: { maxRetries: -1 } }),
    /'retry.maxRetries' must be an integer, at least 0/,
  ],
  [
    'a NaN retry delay is refused',
    () => connection({ retry: { baseDelayMs: NaN } }),
    /'retry.baseDelayMs'.*got NaN/,
  ],
  [
    'an infinite retry cap is refused',
    () => connection({ retry: { maxDelayMs: Infinity } }),
    /'retry.maxDelayMs'.*got Infinity/,
  ],
  [
    'a string retry deadline is refused',
    () => connection({ retry: { deadlineMs: '5' as never } }),
    /'retry.deadlineMs'.*got "5"/,
  ],
  [
    'an unknown driver log level is refused',
    () => connection({ driverLogLevel: 'loud' as never }),
    /'driverLogLevel' must be one of 'off', 'error', 'warn', 'info', 'debug', got "loud"/,
  ],
  [
    'a TTL of 0 is refused before the server answers BadArguments',
    () => wireZk.create('/ttl', 'x', { mode: 5, ttlMs: 0 }),
    /create '\/ttl': 'ttlMs' must be an integer, at least 1 and at most 1099511627775 \(the server's limit\), got 0/,
  ],
  [
    'a TTL the native driver would truncate to 32 bits is refused',
    () => nativeZk.create('/ttl', 'x', { mode: 5, ttlMs: 2 ** 32 + 5 }),
    /'ttlMs' must be an integer, at least 1 and at most 2147483647 \(the native driver sends it as a 32-bit integer\), got 4294967301/,
  ],
];

const storageCases: Case[] = [
  [
    'a maxNodeBytes of 0 is refused',
    () => new ZookeeperStorage(zk, { maxNodeBytes: 0 }),
    /ZookeeperStorage: 'maxNodeBytes' must be an integer, at least 1 and at most 1048575/,
  ],
  [
    'a NaN maxNodeBytes is refused',
    () => new ZookeeperStorage(zk, { maxNodeBytes: NaN }),
    /'maxNodeBytes'.*got NaN/,
  ],
  [
    'a maxNodeBytes above the frame limit is refused',
    // maxFrameBytes is a wire driver option.
    () =>
      new ZookeeperStorage(connection({ driver: 'wire', maxFrameBytes: 4096 }), {
        maxNodeBytes: 5000,
      }),
    /'maxNodeBytes' must be an integer, at least 1 and at most 4096 \(the connection's maxFrameBytes, the servers' jute.maxbuffer\), got 5000/,
  ],
  [
    'zero update retries are refused',
    () => new ZookeeperStorage(zk, { updateRetries: 0 }),
    /'updateRetries'.*got 0/,
  ],
  [
    'a NaN TTL in set is refused',
    () => new ZookeeperStorage(zk).set('k', 1, { ttlMs: NaN }),
    /ZookeeperStorage.set: 'ttlMs'.*got NaN/,
  ],
  [
    'NaN retries of update are refused',
    () => new ZookeeperStorage(zk).update('k', () => 1, { retries: NaN }),
    /ZookeeperStorage.update: 'retries'.*got NaN/,
  ],
];

const handler = () => undefined;
const consume = (options: ConsumeOptions) => () =>
  new WorkQueue(zk, '/q').consume(options, handler);
const messagingCases: Case[] = [
  [
    'a NaN linger is refused',
    () => new WorkQueue(zk, '/q', { lingerMs: NaN }),
    /WorkQueue '\/q': 'lingerMs' must be a finite number, at least 0 and at most 2147483647, got NaN/,
  ],
  [
    'a negative linger is refused',
    () => new BroadcastLog(zk, '/t', { lingerMs: -1 }),
    /BroadcastLog '\/t': 'lingerMs'.*got -1/,
  ],
  [
    'a queue batch above the frame limit is refused',
    () => new WorkQueue(zk, '/q', { maxBatchBytes: 2_000_000 }),
    /'maxBatchBytes' must be an integer, at least 1 and at most 1048575.*got 2000000/,
  ],
  [
    'a zero log batch size is refused',
    () => new BroadcastLog(zk, '/t', { maxBatchBytes: 0 }),
    /'maxBatchBytes'.*got 0/,
  ],
  [
    'a NaN commit interval is refused',
    () => new BroadcastLog(zk, '/t', { commitIntervalMs: NaN }),
    /'commitIntervalMs'.*got NaN/,
  ],
  [
    'zero retained entries are refused',
    () => new BroadcastLog(zk, '/t', { retention: { maxEntries: 0 } }),
    /'retention.maxEntries' must be an integer, at least 1.*got 0/,
  ],
  [
    'a zero retention age is refused',
    () => new BroadcastLog(zk, '/t', { retention: { maxAgeMs: 0 } }),
    /'retention.maxAgeMs' must be a finite number, above 0, got 0/,
  ],
  [
    'a zero subscriber expiry is refused',
    () => new BroadcastLog(zk, '/t', { retention: { subscriberExpiryMs: 0 } }),
    /'retention.subscriberExpiryMs' must be a finite number, above 0, got 0/,
  ],
  [
    'a NaN retention interval is refused',
    () => new BroadcastLog(zk, '/t', { retention: { intervalMs: NaN } }),
    /'retention.intervalMs'.*got NaN/,
  ],
  [
    'a NaN concurrency is refused (no silent clamp)',
    consume({ concurrency: NaN }),
    /WorkQueue '\/q' consume: 'concurrency' must be an integer, at least 1.*got NaN/,
  ],
  [
    'a zero concurrency is refused (no silent clamp to 1)',
    consume({ concurrency: 0 }),
    /'concurrency'.*got 0/,
  ],
  [
    'a fractional concurrency is refused',
    consume({ concurrency: 2.5 }),
    /'concurrency' must be an integer.*got 2.5/,
  ],
  ['zero attempts are refused', consume({ maxAttempts: 0 }), /'maxAttempts'.*got 0/],
  ['a zero line front is refused', consume({ lineFront: 0 }), /'lineFront'.*got 0/],
  ['a NaN retry delay is refused', consume({ retryDelayMs: NaN }), /'retryDelayMs'.*got NaN/],
  [
    'a negative progress interval is refused',
    consume({ progressIntervalMs: -5 }),
    /'progressIntervalMs'.*got -5/,
  ],
  [
    'bad deliveries() options are refused at the call',
    () => new WorkQueue(zk, '/q').deliveries({ concurrency: -1 }),
    /WorkQueue '\/q' deliveries: 'concurrency'.*got -1/,
  ],
];

const transportCases: Case[] = [
  [
    'a NaN default concurrency is refused',
    () => new ServerZookeeper({ connection: zk, defaults: { concurrency: NaN } }),
    /ServerZookeeper: 'defaults.concurrency'.*got NaN/,
  ],
  [
    "a pattern's zero attempts are refused",
    () =>
      new ServerZookeeper({ connection: zk, patterns: { 'order.created': { maxAttempts: 0 } } }),
    /'patterns\[order.created\].maxAttempts'.*got 0/,
  ],
  [
    'a negative grace period is refused',
    () => new ServerZookeeper({ connection: zk, closeGracePeriodMs: -1 }),
    /'closeGracePeriodMs'.*got -1/,
  ],
  [
    'a zero request timeout is refused',
    () => new ClientZookeeper({ connection: zk, requestTimeoutMs: 0 }),
    /ClientZookeeper: 'requestTimeoutMs'.*got 0/,
  ],
  [
    'a NaN health timeout is refused',
    () =>
      new ZookeeperHealthIndicator({} as never, {} as never).isHealthy('zk', {
        connection: zk,
        timeoutMs: NaN,
      }),
    /'timeoutMs'.*got NaN/,
  ],
];

describe.each([
  ['connection', connectionCases],
  ['storage', storageCases],
  ['messaging', messagingCases],
  ['transport and health', transportCases],
])('%s options', (_, cases) => {
  it.each(cases)('%s', async (_promise, call, message) => {
    const error = await failure(call);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('options that are allowed', () => {
  it('takes the limits themselves and leaves unset options to their defaults', () => {
    expect(() => connection({ sessionTimeoutMs: 1, connectTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
    expect(() => connection({ retry: { maxRetries: 0, baseDelayMs: 0 } })).not.toThrow();
    expect(() => new ZookeeperStorage(zk, { maxNodeBytes: 0xfffff })).not.toThrow();
    expect(() => new WorkQueue(zk, '/q', { lingerMs: 0, maxBatchBytes: 0xfffff })).not.toThrow();
    expect(
      () => new BroadcastLog(zk, '/t', { retention: { maxAgeMs: 30 * 86_400_000 } }),
    ).not.toThrow();
    expect(
      () => new ServerZookeeper({ connection: zk, defaults: { concurrency: 1 } }),
    ).not.toThrow();
    expect(() => new WorkQueue(zk, '/q').deliveries({ concurrency: 8 })).not.toThrow();
  });
});
