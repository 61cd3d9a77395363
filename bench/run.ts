// `npm run bench`: throughput of the library against the raw `zookeeper` driver, in the same run
// against the same server, reported as ratios (speed is never asserted in tests).
import ZooKeeper from 'zookeeper';
import { ZookeeperConnection, ZookeeperStorage } from '../libs/zookeeper/src/index.js';
import { ZookeeperTestingServer } from '../libs/zookeeper/src/testing/index.js';
import { benchMessaging, IN_FLIGHT } from './messaging.js';
import { benchTransport } from './transport.js';

const OPS = Number(process.env.BENCH_OPS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const VALUE = Buffer.from(JSON.stringify({ id: 1, name: 'bench', tags: ['a', 'b', 'c'] }));

interface Workload {
  name: string;
  raw: (i: number) => Promise<unknown>;
  ours: (i: number) => Promise<unknown>;
}

async function timed(run: (i: number) => Promise<unknown>, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < OPS) await run(next++);
    }),
  );
  return (OPS / (performance.now() - started)) * 1000;
}

async function rawClient(connectString: string): Promise<ZooKeeper> {
  const client = new ZooKeeper({ connect: connectString, timeout: 10_000, debug_level: 0 });
  await new Promise<void>((resolve) => {
    client.once('connect', () => resolve());
    client.init({});
  });
  return client;
}

const server = process.env.ZK_CONNECT
  ? undefined
  : await ZookeeperTestingServer.start({ tickTime: 2000 });
const connectString = process.env.ZK_CONNECT ?? server!.connectString;
const raw = await rawClient(connectString);
const ours = await ZookeeperConnection.connect({
  connectString,
  logger: { log() {}, warn() {}, error: console.error },
});
const storage = new ZookeeperStorage(ours, { root: '/bench-storage' });
const root = `/bench-${Date.now()}`;
await raw.create(root, '', 0);
await raw.create(`${root}/raw`, '', 0);
await raw.create(`${root}/ours`, '', 0);

const workloads: Workload[] = [
  {
    name: 'create',
    raw: (i) => raw.create(`${root}/raw/n${i}`, VALUE, 0),
    ours: (i) => ours.create(`${root}/ours/n${i}`, VALUE),
  },
  {
    name: 'get',
    raw: (i) => raw.get(`${root}/raw/n${i % OPS}`, false),
    ours: (i) => ours.get(`${root}/ours/n${i % OPS}`),
  },
  {
    name: 'set',
    raw: (i) => raw.set(`${root}/raw/n${i % OPS}`, VALUE, -1),
    ours: (i) => ours.set(`${root}/ours/n${i % OPS}`, VALUE),
  },
  {
    name: 'get+watch',
    raw: (i) => raw.get(`${root}/raw/n${i % OPS}`, true),
    ours: (i) => ours.get(`${root}/ours/n${i % OPS}`, { watch: () => undefined }),
  },
  {
    name: 'storage.get (JSON)',
    raw: (i) =>
      raw
        .get(`${root}/raw/n${i % OPS}`, false)
        .then((reply: unknown[]) => JSON.parse(String(reply[1]))),
    ours: (i) => storage.get(`n${i % 100}`),
  },
];
await storage.setMany(
  Array.from({ length: 100 }, (_, i) => [`n${i}`, JSON.parse(VALUE.toString())] as const),
);

console.log(`ops per workload: ${OPS}; server ${connectString}\n`);
console.log('workload               mode        raw ops/s   ours ops/s   ours/raw');
for (const workload of workloads) {
  for (const [mode, concurrency] of [
    ['sequential', 1],
    [`pipelined`, CONCURRENCY],
  ] as const) {
    // Creates can only run once per name: the sequential pass creates, the pipelined one re-creates under new names.
    const offset = workload.name === 'create' && concurrency > 1 ? OPS : 0;
    const rawRate = await timed((i) => workload.raw(i + offset), concurrency);
    const oursRate = await timed((i) => workload.ours(i + offset), concurrency);
    console.log(
      `${workload.name.padEnd(22)} ${mode.padEnd(10)} ${rawRate.toFixed(0).padStart(10)} ${oursRate.toFixed(0).padStart(12)} ${(oursRate / rawRate).toFixed(2).padStart(10)}`,
    );
  }
}

console.log(
  `\nmessaging, end to end: publish ${OPS} messages (${IN_FLIGHT} in flight), consume all`,
);
console.log('primitive              raw msg/s   ours msg/s   ours/raw');
for (const result of await benchMessaging(raw, ours, root, OPS)) {
  console.log(
    `${result.name.padEnd(22)} ${result.rawRate.toFixed(0).padStart(9)} ${result.oursRate.toFixed(0).padStart(12)} ${(result.oursRate / result.rawRate).toFixed(2).padStart(10)}`,
  );
}
await benchTransport(connectString, root);
raw.close();
await ours.close();
await server?.close();
