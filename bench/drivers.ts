// Section `drivers`: the clients under the library, and the library on each of its drivers, on one
// server in the same run. Four contenders, 64 requests in flight, BENCH_ROUNDS rounds rotating
// which contender goes first, median ops/s of the rounds and the process's CPU time per operation
// (one contender is active at a time, so the process's CPU is that contender's):
// - raw native: the `zookeeper` package's promise API (the C client);
// - raw node-zookeeper-client: pure JS, callbacks wrapped in promises;
// - ours on wire / ours on native: ZookeeperConnection with driver 'wire' / 'native'.
// Then storage.set against a raw set of the same bytes on the same driver, watch fired latency,
// and memory over 100,000 sets. The targets are printed next to the numbers, never asserted.
import { randomBytes } from 'node:crypto';
import ZooKeeper from 'zookeeper';
import nzk from 'node-zookeeper-client';
import { CreateMode, ZookeeperConnection, ZookeeperStorage } from '../libs/zookeeper/src/index.js';
import {
  BenchContext,
  connectNzk,
  connectOurs,
  connectRawNative,
  NzkClient,
} from './support/clients.js';
import {
  forceGc,
  IN_FLIGHT,
  measured,
  median,
  percentile,
  pool,
  rotated,
  withDeadline,
} from './support/timing.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
/** Operations per contender, workload and round (pairs for create+delete). */
const OPS = Number(process.env.BENCH_OPS ?? 8000);
const WARM_UP = Math.min(1000, OPS);
const WATCH_SAMPLES = Number(process.env.BENCH_WATCH_SAMPLES ?? 2000);
const MEMORY_OPS = Number(process.env.BENCH_MEMORY_OPS ?? 100_000);
/** Existing nodes the sets and gets go round. */
const NODES = 1000;
const VALUE = randomBytes(1024);
/** Heap growth (after a forced gc) over the memory run that still counts as flat: ~10 B per op. */
const FLAT_HEAP_BYTES = 1024 * 1024;
const PHASE_DEADLINE_MS = 120_000;

type Key = 'rawNative' | 'rawNzk' | 'wire' | 'native';

/** One client under test, with what the workloads need of it. */
interface Contender {
  key: Key;
  label: string;
  set(path: string, data: Buffer): Promise<unknown>;
  get(path: string): Promise<unknown>;
  createSequential(prefix: string): Promise<string>;
  delete(path: string): Promise<unknown>;
  /** Sets a one-shot data watch with a read; `fired` is called on its event. */
  watchData(path: string, fired: () => void): Promise<unknown>;
}

const EMPTY = Buffer.alloc(0);

function rawNative(client: ZooKeeper): Contender {
  return {
    key: 'rawNative',
    label: 'raw native (zookeeper pkg)',
    set: (path, data) => client.set(path, data, -1),
    get: (path) => client.get(path, false),
    createSequential: (prefix) => client.create(prefix, EMPTY, ZooKeeper.constants.ZOO_SEQUENCE),
    delete: (path) => client.delete_(path, -1),
    watchData: (path, fired) => client.w_get(path, () => fired()),
  };
}

function rawNzk(client: NzkClient): Contender {
  return {
    key: 'rawNzk',
    label: 'raw node-zookeeper-client',
    set: (path, data) => client.setData(path, data),
    get: (path) => client.getData(path),
    createSequential: (prefix) =>
      client.create(prefix, EMPTY, nzk.CreateMode.PERSISTENT_SEQUENTIAL),
    delete: (path) => client.remove(path),
    watchData: (path, fired) => client.getData(path, () => fired()),
  };
}

function ours(key: 'wire' | 'native', zk: ZookeeperConnection): Contender {
  return {
    key,
    label: `ours on ${key}`,
    set: (path, data) => zk.set(path, data),
    get: (path) => zk.get(path),
    // protected: false, so this is the single create request the raw clients send.
    createSequential: (prefix) =>
      zk.create(prefix, EMPTY, { mode: CreateMode.PERSISTENT_SEQUENTIAL, protected: false }),
    delete: (path) => zk.delete(path),
    watchData: (path, fired) => zk.get(path, { watch: () => fired() }),
  };
}

interface Workload {
  name: string;
  unit: string;
  run(contender: Contender, i: number): Promise<unknown>;
}

interface Samples {
  rates: number[];
  cpu: number[];
}

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);

/** One timed phase: OPS operations of `workload` by `contender`, 64 in flight. */
async function phase(contender: Contender, workload: Workload, count: number) {
  forceGc?.();
  return measured(count, () =>
    withDeadline(
      `${workload.name} on ${contender.label}`,
      pool(count, (i) => workload.run(contender, i)),
      PHASE_DEADLINE_MS,
    ),
  );
}

/** Time from a set's send (by `writer`) to the call of the watcher `contender` set with a read. */
async function watchFired(contender: Contender, writer: ZooKeeper, path: string): Promise<number> {
  let fired!: (at: number) => void;
  const firedAt = new Promise<number>((resolve) => (fired = resolve));
  await contender.watchData(path, () => fired(performance.now()));
  const sent = performance.now();
  const [at] = await withDeadline(
    `watch on ${contender.label}`,
    Promise.all([firedAt, writer.set(path, VALUE, -1)]),
    PHASE_DEADLINE_MS,
  );
  return at - sent;
}

/** The lowest and highest of the rounds: how much the load moved the numbers. */
const spread = (rates: readonly number[]) =>
  `${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}`;

function verdict(ok: boolean | undefined, note = ''): string {
  if (ok === undefined) return 'not measured (wire unavailable)';
  return `${ok ? 'met' : 'NOT met'}${note}`;
}

export async function benchDrivers({
  connectString,
  root,
  progress,
  record,
}: BenchContext): Promise<void> {
  const base = root;
  const data = `${base}/data`;
  const rawClient = await connectRawNative(connectString);
  const writer = await connectRawNative(connectString);
  const nzkClient = await connectNzk(connectString);
  const native = await connectOurs(connectString, 'native');
  if ('unavailable' in native) throw new Error(`bench drivers: ${native.unavailable}`);
  const wire = await connectOurs(connectString, 'wire');
  const wireMissing = 'unavailable' in wire ? wire.unavailable : undefined;

  const contenders: Contender[] = [rawNative(rawClient), rawNzk(nzkClient)];
  if (!('unavailable' in wire)) contenders.push(ours('wire', wire));
  contenders.push(ours('native', native));

  await rawClient.create(data, '', 0);
  await pool(NODES, (i) => rawClient.create(`${data}/n${i}`, VALUE, 0));
  for (const contender of contenders) await rawClient.create(`${base}/seq-${contender.key}`, '', 0);

  const workloads: Workload[] = [
    {
      name: 'set 1 KiB',
      unit: 'ops/s',
      run: (contender, i) => contender.set(`${data}/n${i % NODES}`, VALUE),
    },
    {
      name: 'get 1 KiB',
      unit: 'ops/s',
      run: (contender, i) => contender.get(`${data}/n${i % NODES}`),
    },
    {
      name: 'seq create+delete',
      unit: 'pairs/s',
      run: async (contender) =>
        contender.delete(await contender.createSequential(`${base}/seq-${contender.key}/s-`)),
    },
  ];

  console.log(
    `\ndrivers: ${OPS} ops per contender, workload and round (create+delete: pairs), ` +
      `${IN_FLIGHT} in flight, ${ROUNDS} rounds rotating which contender goes first, medians; ` +
      `${NODES} nodes of 1 KiB; sequential creates with empty data; ours creates with ` +
      `protected: false (the same single create request the raw clients send); ` +
      `forced gc before each phase: ${forceGc ? 'yes' : 'no (unavailable)'}`,
  );
  record.setting(
    `${OPS} ops per contender, workload and round (create+delete: pairs), ${IN_FLIGHT} in ` +
      `flight, ${ROUNDS} rounds rotating which contender goes first, medians of the rounds`,
  );
  record.setting(
    `${NODES} nodes of 1 KiB; sequential creates with empty data, ours with protected: false ` +
      `(the same single create request the raw clients send); forced gc before each phase: ` +
      `${forceGc ? 'yes' : 'no (unavailable)'}`,
  );
  if (wireMissing) {
    console.log(`ours on wire: SKIPPED, the wire driver does not connect: ${wireMissing}`);
    record.note(`ours on wire: SKIPPED, the wire driver does not connect: ${wireMissing}`);
  }

  progress(`warm-up: ${WARM_UP} ops per contender and workload`);
  for (const workload of workloads) {
    for (const contender of contenders) {
      await pool(WARM_UP, (i) => workload.run(contender, i));
    }
  }

  const samples = new Map<string, Map<Key, Samples>>(
    workloads.map((w) => [w.name, new Map(contenders.map((c) => [c.key, { rates: [], cpu: [] }]))]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const workload of workloads) {
      const line: string[] = [];
      for (const contender of rotated(contenders, round)) {
        const result = await phase(contender, workload, OPS);
        const own = samples.get(workload.name)!.get(contender.key)!;
        own.rates.push(result.rate);
        own.cpu.push(result.cpuUsPerOp);
        line.push(`${contender.label} ${result.rate.toFixed(0)}`);
      }
      progress(
        `round ${round + 1}/${ROUNDS} ${workload.name} ${workload.unit}: ${line.join(', ')}`,
      );
    }
  }

  const rateOf = (workload: string, key: Key) => {
    const own = samples.get(workload)?.get(key);
    return own ? median(own.rates) : undefined;
  };
  const cpuOf = (workload: string, key: Key) => {
    const own = samples.get(workload)?.get(key);
    return own ? median(own.cpu) : undefined;
  };
  const ratio = (workload: string, key: Key, to: Key) => {
    const mine = rateOf(workload, key);
    const theirs = rateOf(workload, to);
    return mine === undefined || theirs === undefined ? undefined : mine / theirs;
  };

  console.log(
    `\n${'workload'.padEnd(18)} ${'client'.padEnd(27)} ${'ops/s'.padStart(8)} ` +
      `${'/raw native'.padStart(11)} ${'/raw nzk'.padStart(9)} ${'CPU µs/op'.padStart(10)}   ` +
      `rounds' min-max ops/s`,
  );
  for (const workload of workloads) {
    for (const contender of contenders) {
      console.log(
        `${workload.name.padEnd(18)} ${contender.label.padEnd(27)} ` +
          `${fmt(rateOf(workload.name, contender.key)).padStart(8)} ` +
          `${fmt(ratio(workload.name, contender.key, 'rawNative'), 2).padStart(11)} ` +
          `${fmt(ratio(workload.name, contender.key, 'rawNzk'), 2).padStart(9)} ` +
          `${fmt(cpuOf(workload.name, contender.key), 1).padStart(10)}   ` +
          spread(samples.get(workload.name)!.get(contender.key)!.rates),
      );
    }
  }

  const measureOf = (workload: string, contender: Contender) => {
    const own = samples.get(workload)!.get(contender.key)!;
    return {
      name: contender.label,
      rate: rateOf(workload, contender.key),
      cpuUsPerOp: cpuOf(workload, contender.key),
      minRate: Math.min(...own.rates),
      maxRate: Math.max(...own.rates),
    };
  };
  // Ours on wire against raw native (the targets), the other two clients beside them.
  const oursKey: Key = 'unavailable' in wire ? 'native' : 'wire';
  for (const workload of workloads) {
    const byKey = (key: Key) => contenders.find((contender) => contender.key === key)!;
    record.workload({
      name: workload.name,
      unit: workload.unit,
      ours: measureOf(workload.name, byKey(oursKey)),
      baseline: measureOf(workload.name, byKey('rawNative')),
      ratio: ratio(workload.name, oursKey, 'rawNative'),
      others: contenders
        .filter((contender) => contender.key !== oursKey && contender.key !== 'rawNative')
        .map((contender) => measureOf(workload.name, contender)),
    });
  }

  // storage.set against a raw set of the same bytes, on the same connection (wire if it connects).
  const sameDriver = 'unavailable' in wire ? native : wire;
  const sameDriverName = 'unavailable' in wire ? 'native' : 'wire';
  const storage = new ZookeeperStorage(sameDriver, { root: `${base}/storage` });
  const value = { id: 1, name: 'bench', payload: 'x'.repeat(988) };
  await pool(NODES, (i) => storage.set(`s${i}`, value));
  const storedBytes = (await sameDriver.get(storage.znodePath('s0'))).data;
  const storageSides: Contender[] = [
    { ...ours(sameDriverName, sameDriver), label: 'raw set' },
    { ...ours(sameDriverName, sameDriver), label: 'storage.set' },
  ];
  const storageWork: Record<string, Workload> = {
    'raw set': {
      name: 'raw set',
      unit: 'ops/s',
      run: (_, i) => sameDriver.set(storage.znodePath(`s${i % NODES}`), storedBytes),
    },
    'storage.set': {
      name: 'storage.set',
      unit: 'ops/s',
      run: (_, i) => storage.set(`s${i % NODES}`, value),
    },
  };
  const storageRates: Record<string, number[]> = { 'raw set': [], 'storage.set': [] };
  for (const side of storageSides) await pool(WARM_UP, (i) => storageWork[side.label].run(side, i));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of rotated(storageSides, round)) {
      storageRates[side.label].push((await phase(side, storageWork[side.label], OPS)).rate);
    }
    progress(
      `round ${round + 1}/${ROUNDS} storage.set ${storageRates['storage.set'][round].toFixed(0)}/s, ` +
        `raw set ${storageRates['raw set'][round].toFixed(0)}/s (${sameDriverName})`,
    );
  }
  const storageRatio = median(storageRates['storage.set']) / median(storageRates['raw set']);
  console.log(
    `\nstorage.set (JSON, ${storedBytes.length} bytes stored) vs ZookeeperConnection.set of the ` +
      `same bytes, both on ${sameDriverName}${wireMissing ? ' (wire unavailable)' : ''}, ` +
      `${IN_FLIGHT} in flight: ${median(storageRates['storage.set']).toFixed(0)} vs ` +
      `${median(storageRates['raw set']).toFixed(0)} ops/s = ${storageRatio.toFixed(2)}`,
  );

  record.workload({
    name: `storage.set (JSON, ${storedBytes.length} bytes) vs set of the same bytes, both on ${sameDriverName}`,
    unit: 'ops/s',
    ours: {
      name: 'storage.set',
      rate: median(storageRates['storage.set']),
      minRate: Math.min(...storageRates['storage.set']),
      maxRate: Math.max(...storageRates['storage.set']),
    },
    baseline: {
      name: `set on ${sameDriverName}`,
      rate: median(storageRates['raw set']),
      minRate: Math.min(...storageRates['raw set']),
      maxRate: Math.max(...storageRates['raw set']),
    },
    ratio: storageRatio,
  });

  // Watch fired latency: a data watch set with a read, then a set from another session.
  const watched = `${base}/watched`;
  await rawClient.create(watched, VALUE, 0);
  const watchers = contenders.filter((c) => c.key !== 'rawNzk');
  const latencies = new Map<Key, number[]>(watchers.map((c) => [c.key, []]));
  const perRound = Math.ceil(WATCH_SAMPLES / ROUNDS);
  for (const watcher of watchers) await watchFired(watcher, writer, watched);
  for (let round = 0; round < ROUNDS; round++) {
    for (const watcher of rotated(watchers, round)) {
      forceGc?.();
      const own = latencies.get(watcher.key)!;
      for (let i = 0; i < perRound && own.length < WATCH_SAMPLES; i++) {
        own.push(await watchFired(watcher, writer, watched));
      }
    }
    progress(`round ${round + 1}/${ROUNDS} watch latency, ${perRound} samples per client`);
  }
  const p = (key: Key, q: number) => {
    const own = latencies.get(key);
    return own?.length ? percentile(own, q) : undefined;
  };
  console.log(
    `\nwatch fired latency, ${WATCH_SAMPLES} sequential samples per client (set sent by another ` +
      `session of the raw native client → watcher called), ms`,
  );
  for (const watcher of watchers) {
    console.log(
      `${watcher.label.padEnd(27)} p50 ${fmt(p(watcher.key, 50), 3).padStart(7)}   ` +
        `p99 ${fmt(p(watcher.key, 99), 3).padStart(7)}`,
    );
  }

  {
    const latencyOf = (watcher: Contender) => ({
      name: watcher.label,
      p50Ms: p(watcher.key, 50),
      p99Ms: p(watcher.key, 99),
    });
    const oursWatcher = watchers.find((watcher) => watcher.key === oursKey)!;
    const rawWatcher = watchers.find((watcher) => watcher.key === 'rawNative')!;
    const oursP99 = p(oursKey, 99);
    const rawP99 = p('rawNative', 99);
    record.workload({
      name: `watch fired latency (${WATCH_SAMPLES} sequential samples per client)`,
      unit: 'ms',
      ours: latencyOf(oursWatcher),
      baseline: latencyOf(rawWatcher),
      ratio: oursP99 === undefined || rawP99 === undefined ? undefined : oursP99 / rawP99,
      ratioOf: 'p99',
      others: watchers
        .filter((watcher) => watcher !== oursWatcher && watcher !== rawWatcher)
        .map(latencyOf),
    });
  }

  // Memory over many sets on one connection (wire if it connects).
  progress(`memory: ${MEMORY_OPS} sets on ${sameDriverName}`);
  forceGc?.();
  forceGc?.();
  const before = process.memoryUsage();
  await pool(MEMORY_OPS, (i) => sameDriver.set(`${data}/n${i % NODES}`, VALUE));
  forceGc?.();
  forceGc?.();
  const after = process.memoryUsage();
  const heapGrowth = after.heapUsed - before.heapUsed;
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    `\nmemory over ${MEMORY_OPS} sets on ${sameDriverName}` +
      `${wireMissing ? ' (wire unavailable)' : ''}, ${IN_FLIGHT} in flight, ` +
      `${forceGc ? 'after a forced gc' : 'WITHOUT a forced gc (unavailable)'}: ` +
      `heapUsed ${mib(before.heapUsed)} → ${mib(after.heapUsed)} MiB ` +
      `(${(heapGrowth / MEMORY_OPS).toFixed(1)} B/op), rss ${mib(before.rss)} → ${mib(after.rss)} MiB`,
  );
  record.note(
    `memory over ${MEMORY_OPS} sets on ${sameDriverName}, ${IN_FLIGHT} in flight, ` +
      `${forceGc ? 'after a forced gc' : 'without a forced gc (unavailable)'}: heapUsed ` +
      `${mib(before.heapUsed)} → ${mib(after.heapUsed)} MiB ` +
      `(${(heapGrowth / MEMORY_OPS).toFixed(1)} B/op), rss ${mib(before.rss)} → ${mib(after.rss)} MiB`,
  );

  const wireOk = wireMissing === undefined;
  const atLeast = (value: number | undefined, target: number) =>
    wireOk && value !== undefined ? value >= target : undefined;
  const targets: Array<[string, string, boolean | undefined, string?]> = [];
  for (const [workload, vsNative] of [
    ['set 1 KiB', 1.5],
    ['get 1 KiB', 1.0],
    ['seq create+delete', 1.5],
  ] as const) {
    const toNative = ratio(workload, 'wire', 'rawNative');
    const toNzk = ratio(workload, 'wire', 'rawNzk');
    targets.push(
      [
        `${workload}: ours on wire ≥ ${vsNative.toFixed(1)}× raw native`,
        fmt(toNative, 2),
        atLeast(toNative, vsNative),
      ],
      [
        `${workload}: ours on wire ≥ 0.9× raw node-zookeeper-client`,
        fmt(toNzk, 2),
        atLeast(toNzk, 0.9),
      ],
    );
  }
  const cpuPerSet = cpuOf('set 1 KiB', 'wire');
  targets.push([
    'client CPU per set, ours on wire ≤ 45 µs',
    fmt(cpuPerSet, 1),
    wireOk && cpuPerSet !== undefined ? cpuPerSet <= 45 : undefined,
  ]);
  for (const [to, label] of [
    ['native', 'ours on native'],
    ['rawNative', 'raw native'],
  ] as const) {
    const wireP99 = p('wire', 99);
    const theirs = p(to, 99);
    const watchRatio = wireP99 === undefined || theirs === undefined ? undefined : wireP99 / theirs;
    targets.push([
      `watch fired p99: wire ≤ 1.2× ${label}`,
      fmt(watchRatio, 2),
      watchRatio === undefined ? undefined : watchRatio <= 1.2,
    ]);
  }
  const onNative = wireMissing ? ' (measured on native: wire unavailable)' : '';
  targets.push(
    [
      'storage.set ≥ 0.95× raw set on the same driver',
      storageRatio.toFixed(2),
      storageRatio >= 0.95,
      onNative,
    ],
    [
      `memory flat over ${MEMORY_OPS} sets (heap growth ≤ 1 MiB after gc)`,
      `${(heapGrowth / 1024).toFixed(0)} KiB`,
      heapGrowth <= FLAT_HEAP_BYTES,
      `${onNative}${forceGc ? '' : ' (no forced gc)'}`,
    ],
  );
  console.log('\ntargets (from the issue; printed, not asserted)');
  for (const [what, measuredValue, met, note = ''] of targets) {
    console.log(`  ${what.padEnd(64)} ${measuredValue.padStart(9)}   ${verdict(met, note)}`);
    const why = met === undefined ? '(wire unavailable)' : note.trim();
    record.target({ what, measured: measuredValue, met, note: why || undefined });
  }

  rawClient.close();
  writer.close();
  nzkClient.close();
  await native.close();
  if (!('unavailable' in wire)) await wire.close();
}
