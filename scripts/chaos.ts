// `npm run chaos [-- --duration 120 --seed 7 --rate 520 --job-rate 52 --acl --report file.json]`:
// a 3-node ZooKeeper ensemble (the library's testing cluster), the demo's 2 producers and 3
// consumers as processes, a load generator, and faults injected at random from a seeded schedule
// (ZooKeeper nodes killed, the leader among them, or paused; the master killed or paused past its
// session timeout; consumers killed, paused or their sessions expired), overlapping. Afterwards
// the apps' logs and ZooKeeper's end state are checked (chaos/checker.ts); the report is printed
// and written as JSON, its path on the last line. Exit 1 on any violation (or a run that could
// not be carried out), 2 on bad options. With --acl every app connects with the same digest
// credentials and protects everything it creates (defaultAcl CREATOR_ALL_ACL, namespace included).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Listr, PRESET_TIMER } from 'listr2';
import { ZookeeperTestingCluster } from '../libs/zookeeper/src/testing/index.js';
import type { AppKind, AppProcess } from './demo/app-process.js';
import { DeliveryTally } from './demo/delivery-tally.js';
import { DemoApps } from './demo/demo-apps.js';
import { until } from './demo/step-runner.js';
import { checkRun } from './chaos/checker.js';
import { monoMs } from './chaos/clock.js';
import { collectLogs, type SpawnedApp } from './chaos/collector.js';
import { FaultInjector } from './chaos/injector.js';
import { readLeftovers } from './chaos/leftovers.js';
import { LoadGenerator } from './chaos/load.js';
import type { ChaosObservations, Leftovers } from './chaos/observations.js';
import { buildReport, formatReport } from './chaos/report.js';
import { buildSchedule } from './chaos/schedule.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '520' },
    'job-rate': { type: 'string' },
    report: { type: 'string' },
    acl: { type: 'boolean', default: false },
  },
});
function integer(flag: string, value: string | undefined, min: number): number {
  const number = Number(value);
  if (Number.isInteger(number) && number >= min) return number;
  console.error(`--${flag} must be an integer of at least ${min}, got '${value}'`);
  process.exit(2);
}
const durationS = integer('duration', flags.duration, 10);
const seed =
  flags.seed === undefined ? Math.floor(Math.random() * 1e9) : integer('seed', flags.seed, 0);
const rate = integer('rate', flags.rate, 1);
const jobRate = integer(
  'job-rate',
  flags['job-rate'] ?? String(Math.max(1, Math.round(rate / 10))),
  0,
);
const sessionTimeoutMs = 4000; // the testing cluster's maximum (20 ticks of 200 ms)
const producers = ['producer-1', 'producer-2'];
const consumers = ['consumer-a', 'consumer-b', 'consumer-c'];
const namespace = 'nestjs-zookeeper-chaos';
// Pausing a node (SIGSTOP) cuts it off from every peer and client at once, as a partition does;
// a real one would need packet filtering on loopback (iptables or tc), which this run does not
// assume it may change on a shared machine.
const partitions = 'simulated by SIGSTOP/SIGCONT of a ZooKeeper node or app (no packet filtering)';
// --acl: one identity for every app (CREATOR_ALL only lets the creator's user in, and the apps use
// each other's nodes), a password of this run's own.
const digest = flags.acl ? `chaos:${randomBytes(12).toString('hex')}` : undefined;
const auth = digest ? [{ scheme: 'digest', credentials: digest }] : undefined;

// The apps read these; ZK_CONNECT is set to the ensemble once it runs (never a user's own).
delete process.env.ZK_CONNECT;
Object.assign(process.env, {
  ZK_SESSION_TIMEOUT_MS: sessionTimeoutMs,
  ZK_NAMESPACE: namespace,
  PORT: 0,
  NO_COLOR: 1,
  ...(digest ? { ZK_DIGEST: digest, ZK_ACL: 'creator' } : {}),
});
const logDir = mkdtempSync(join(tmpdir(), 'nestjs-zookeeper-chaos-'));
const reportPath = resolve(flags.report ?? join(logDir, 'chaos-report.json'));
const abort = new AbortController();
const tally = new DeliveryTally();
const apps = new DemoApps({
  logDir,
  producers,
  tally,
  abort: abort.signal,
  env: { DEMO_CHAOS_HOOKS: '1' },
  // The master as its own log says (elected / no longer master): quicker than asking over HTTP,
  // which a loaded or paused producer may not answer in time.
  onLine: (app, line) => {
    lineWatchers.forEach((watch) => watch(app, line));
    if (app.kind !== 'producer') return;
    if (line.includes('[Master] elected master')) master = app;
    else if (line.includes('[Master] no longer master') && master === app) master = undefined;
  },
});
let master: AppProcess | undefined;
const lineWatchers = new Set<(app: AppProcess, line: string) => void>();
/** Resolves with the next line of app `name` that matches, undefined after `timeoutMs`. */
function nextLine(name: string, pattern: RegExp, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (line?: string) => {
      lineWatchers.delete(watch);
      clearTimeout(timer);
      resolve(line);
    };
    const watch = (app: AppProcess, line: string) =>
      app.name === name && pattern.test(line) && done(line);
    const timer = setTimeout(() => done(), timeoutMs);
    lineWatchers.add(watch);
  });
}
apps.quiet = true;
const spawned: SpawnedApp[] = [];
const start = (kind: AppKind, name: string) => {
  const app = apps.start(kind, name);
  spawned.push({ kind, name, pid: app.pid, logFile: app.logFile });
  return app;
};
let cluster: ZookeeperTestingCluster | undefined;
process.on('exit', () => apps.killAll());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error(`interrupted by ${signal}`));
  });
}

const schedule = buildSchedule({
  seed,
  durationMs: durationS * 1000,
  sessionTimeoutMs,
  zookeeperNodes: 3,
  consumers,
});
const load = new LoadGenerator({
  rate,
  jobRate,
  producers: () => new Map([...apps.listening()].filter(([name]) => producers.includes(name))),
});
let injector: FaultInjector | undefined;
const loadAverage = { start: 0, end: 0 };
let leftovers: Leftovers | undefined;
/** What the steps use of listr2's task wrapper. */
type Task = { title: string; output: string };

console.log(
  `nestjs-zookeeper chaos: seed ${seed}, ${durationS} s at ${rate} messages/s and ${jobRate} jobs/s, ${schedule.length} faults planned${digest ? ', every node protected (--acl)' : ''}; logs in ${logDir}`,
);
const tasks = new Listr(
  [
    {
      title: 'a 3-node ZooKeeper ensemble',
      task: async (_: unknown, task: Task) => {
        cluster = await ZookeeperTestingCluster.start({ size: 3 });
        process.env.ZK_CONNECT = cluster.connectString;
        task.title = `a 3-node ZooKeeper ensemble on ${cluster.connectString}`;
      },
    },
    {
      title: `${producers.join(', ')} and ${consumers.join(', ')} listening`,
      task: async () => {
        producers.forEach((name) => start('producer', name));
        consumers.forEach((name) => start('consumer', name));
        await Promise.race([
          apps.allListening(),
          sleep(60_000, undefined, { ref: false }).then(() => {
            throw new Error('not all listening in 60 s');
          }),
        ]);
      },
    },
    {
      title: 'a master is elected and every consumer is registered',
      task: async (_: unknown, task: Task) => {
        let master: string | null | undefined;
        await until(
          'a master and 3 registered consumers',
          async () => {
            const status = await apps.producerStatus();
            master = status?.master;
            return !!master && status!.clients.length >= consumers.length;
          },
          30_000,
        );
        task.title = `master ${master}, ${consumers.length} consumers registered`;
      },
    },
    {
      title: `load ${durationS} s at ${rate}/s with ${schedule.length} faults (seed ${seed})`,
      task: (_: unknown, task: Task) => runLoad(task),
    },
    {
      title: 'every fault healed; every acknowledged message and job delivered',
      task: (_: unknown, task: Task) => drain(task),
    },
    {
      title: 'the queues and the log are clean',
      task: async (_: unknown, task: Task) => {
        leftovers = await readLeftovers({
          connectString: cluster!.connectString,
          namespace,
          auth,
          consumers,
          producersRunning: producers.filter((name) => apps.get(name)?.running).length,
          timeoutMs: 30_000,
        });
        task.title = `end state read: inbox ${leftovers.inbox.items} items, jobs ${leftovers.jobs.items} items, log ends at ${leftovers.logLastOffset}`;
      },
    },
  ],
  {
    exitOnError: true,
    rendererOptions: { timer: PRESET_TIMER, collapseErrors: false },
    fallbackRenderer: 'simple',
    fallbackRendererOptions: { timer: PRESET_TIMER },
  },
);

let runError: unknown;
try {
  await tasks.run();
} catch (error) {
  runError = error;
}
await apps.stopAll();
await cluster?.close();

const logs = await collectLogs(spawned);
const observations: ChaosObservations = {
  seed,
  durationMs: durationS * 1000,
  acknowledged: load.acknowledged,
  ackTimesMs: load.ackTimesMs,
  unacknowledged: load.unacknowledged,
  ...logs,
  faults: injector?.faults ?? [],
  loadStartedAtMs: load.startedAtMs,
  leftovers,
};
const verdict = checkRun(observations);
const report = buildReport(observations, verdict, {
  rate,
  jobRate,
  sessionTimeoutMs,
  partitions,
  acl: digest ? 'every node CREATOR_ALL_ACL for one digest user (--acl)' : 'open',
  logDir,
  notSent: load.notSent,
  loadAverage,
  cores: availableParallelism(),
});
if (runError) {
  report.passed = false;
  report.checks['the run completed'] = {
    result: 'fail',
    reason: runError instanceof Error ? runError.message : String(runError),
  };
}
writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
console.log(formatReport(report));
console.log(`report: ${reportPath}`);
process.exit(report.passed ? 0 : abort.signal.aborted ? 130 : 1);

async function runLoad(task: Task): Promise<void> {
  loadAverage.start = loadavg()[0]!;
  const loading = load.run();
  injector = new FaultInjector({
    cluster: cluster!,
    apps,
    producers,
    restart: (kind, name) => start(kind, name),
    master: () => (master?.running ? master.name : undefined),
    nextLine,
    startedAtMs: load.startedAtMs,
    report: (line) => (task.output = line),
  });
  const faults = injector.run(schedule, abort.signal);
  const progress = setInterval(() => (task.output = progressLine()), 2000);
  try {
    await Promise.race([sleep(durationS * 1000), abortion()]);
  } finally {
    load.stop();
    loadAverage.end = loadavg()[0]!;
    clearInterval(progress);
  }
  await loading;
  task.output = 'load stopped; waiting for the faults in progress to heal';
  await faults;
  task.title = `load ${durationS} s at ${rate}/s: ${load.acknowledged.messages.length} messages and ${load.acknowledged.jobs.length} jobs acknowledged, ${injector.faults.length} faults`;
}

function progressLine(): string {
  const seconds = ((monoMs() - load.startedAtMs) / 1000).toFixed(0);
  const received = consumers.map((name) => `${name.slice(-1)} ${tally.received(name)}`).join(' ');
  return `${seconds} s · acknowledged ${load.acknowledged.messages.length} · in flight ${load.inFlightCount} · received ${received} · faults ${injector?.faults.length ?? 0} (${injector?.active ?? 0} active)`;
}

/** Heals what a failed fault may have left, then waits for the consumers to catch up. */
async function drain(task: Task): Promise<void> {
  for (const node of cluster!.nodes) {
    if (node.paused) node.resume();
    if (!node.running) await node.start();
  }
  await cluster!.waitForQuorum(60_000);
  for (const name of [...producers, ...consumers]) {
    const app = apps.get(name);
    app?.signal('SIGCONT');
    if (!app?.running) start(producers.includes(name) ? 'producer' : 'consumer', name);
  }
  await apps.allListening();
  const { messages, jobs } = load.acknowledged;
  const caughtUp = () =>
    consumers.every((name) => tally.receivedOf(name, messages) === messages.length) &&
    tally.jobsDoneOf(jobs) === jobs.length;
  const progress = setInterval(() => {
    const received = consumers.map((name) => tally.receivedOf(name, messages)).join('/');
    task.output = `received ${received} of ${messages.length}, jobs ${tally.jobsDoneOf(jobs)}/${jobs.length}`;
  }, 2000);
  try {
    await until('every acknowledged message and job delivered', async () => caughtUp(), 120_000);
  } finally {
    clearInterval(progress);
  }
}

function abortion(): Promise<never> {
  return new Promise((_, reject) =>
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error), {
      once: true,
    }),
  );
}
