// Section `api`: single operations of the library against the raw `zookeeper` driver, one after
// the other, sequential and pipelined (speed is never asserted in tests, only printed here).
import { ZookeeperStorage } from '../libs/zookeeper/src/index.js';
import { BenchContext, connectOurs, connectRawNative } from './support/clients.js';
import { IN_FLIGHT, pool, rate } from './support/timing.js';

const OPS = Number(process.env.BENCH_OPS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? IN_FLIGHT);
/** The library on the driver the raw client is (the C client), unless ZOOKEEPER_DRIVER says otherwise. */
const DRIVER = (process.env.ZOOKEEPER_DRIVER?.trim() || 'native') as 'wire' | 'native';
const VALUE = Buffer.from(JSON.stringify({ id: 1, name: 'bench', tags: ['a', 'b', 'c'] }));

interface Workload {
  name: string;
  raw: (i: number) => Promise<unknown>;
  ours: (i: number) => Promise<unknown>;
}

const timed = (run: (i: number) => Promise<unknown>, concurrency: number) =>
  rate(OPS, () => pool(OPS, run, concurrency));

export async function benchApi({
  connectString,
  root,
  progress,
  record,
}: BenchContext): Promise<void> {
  const raw = await connectRawNative(connectString);
  const ours = await connectOurs(connectString, DRIVER);
  if ('unavailable' in ours) throw new Error(`bench api: ${ours.unavailable}`);
  const storage = new ZookeeperStorage(ours, { root: `${root}/storage` });
  const base = root;
  await raw.create(`${base}/raw`, '', 0);
  await raw.create(`${base}/ours`, '', 0);

  const workloads: Workload[] = [
    {
      name: 'create',
      raw: (i) => raw.create(`${base}/raw/n${i}`, VALUE, 0),
      ours: (i) => ours.create(`${base}/ours/n${i}`, VALUE),
    },
    {
      name: 'get',
      raw: (i) => raw.get(`${base}/raw/n${i % OPS}`, false),
      ours: (i) => ours.get(`${base}/ours/n${i % OPS}`),
    },
    {
      name: 'set',
      raw: (i) => raw.set(`${base}/raw/n${i % OPS}`, VALUE, -1),
      ours: (i) => ours.set(`${base}/ours/n${i % OPS}`, VALUE),
    },
    {
      name: 'get+watch',
      raw: (i) => raw.get(`${base}/raw/n${i % OPS}`, true),
      ours: (i) => ours.get(`${base}/ours/n${i % OPS}`, { watch: () => undefined }),
    },
    {
      name: 'storage.get (JSON)',
      raw: (i) =>
        raw
          .get(`${base}/raw/n${i % OPS}`, false)
          .then((reply: unknown[]) => JSON.parse(String(reply[1]))),
      ours: (i) => storage.get(`n${i % 100}`),
    },
  ];
  await storage.setMany(
    Array.from({ length: 100 }, (_, i) => [`n${i}`, JSON.parse(VALUE.toString())] as const),
  );

  console.log(
    `\napi: the library (driver '${DRIVER}') against the raw zookeeper package; ` +
      `${OPS} ops per workload, raw first`,
  );
  record.setting(
    `the library (driver '${DRIVER}') against the raw zookeeper package; ${OPS} ops per ` +
      `workload, sequential and ${CONCURRENCY} in flight, raw first`,
  );
  console.log('workload               mode        raw ops/s   ours ops/s   ours/raw');
  for (const workload of workloads) {
    for (const [mode, concurrency] of [
      ['sequential', 1],
      [`pipelined`, CONCURRENCY],
    ] as const) {
      progress(`${workload.name}, ${mode}`);
      // Creates can only run once per name: the sequential pass creates, the pipelined one re-creates under new names.
      const offset = workload.name === 'create' && concurrency > 1 ? OPS : 0;
      const rawRate = await timed((i) => workload.raw(i + offset), concurrency);
      const oursRate = await timed((i) => workload.ours(i + offset), concurrency);
      record.workload({
        name: `${workload.name}, ${mode}`,
        unit: 'ops/s',
        ours: { name: `ours (${DRIVER})`, rate: oursRate },
        baseline: { name: 'raw zookeeper', rate: rawRate },
        ratio: oursRate / rawRate,
      });
      console.log(
        `${workload.name.padEnd(22)} ${mode.padEnd(10)} ${rawRate.toFixed(0).padStart(10)} ${oursRate.toFixed(0).padStart(12)} ${(oursRate / rawRate).toFixed(2).padStart(10)}`,
      );
    }
  }
  raw.close();
  await ours.close();
}
