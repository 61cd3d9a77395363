// The demo's master/client flow end to end, as processes: one producer (the elected master, which
// also accepts the POSTs) and 3 consumers, started from dist/ (npm run build) the way
// scripts/demo.ts starts them. A message's latency runs from its POST being sent to its delivery
// line reaching the bench from a consumer's stdout; a message counts as delivered once all 3
// consumers printed it. Unpaced (64 POSTs in flight) and paced at 500/s, one line each:
// `flow: <n> msgs/s to each of 3 consumers, p50 <x> ms, p99 <y> ms`. Each workload runs twice and
// the second round is the one measured (the first one's figures and CPU are printed too).
// The POSTs go through an undici Pool of keep-alive connections (one request per message, no
// pipelining): the global fetch spent ~490 µs of the bench's CPU per request (WHATWG streams,
// Request/Response objects), the Pool ~55 µs, on cores the apps under test share.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { AppProcess } from '../scripts/demo/app-process.js';
import type { BenchContext } from './support/clients.js';
import { percentile, pool, withDeadline } from './support/timing.js';

const CONSUMERS = ['flow-a', 'flow-b', 'flow-c'];
const UNPACED = { messages: 6000, inFlight: 64 };
const PACED = { messages: 3000, perSecond: 500 };
const TARGET_RATE = 2000;
const TARGET_P99_MS = 50;
const RECEIVED = /\[Receiver\] offset \d+: (\S+)/;

interface Pending {
  sentAt: number;
  seenBy: number;
  resolve: () => void;
}

/** The running apps and the deliveries they print. */
class Flow {
  readonly apps: AppProcess[] = [];
  private readonly pending = new Map<string, Pending>();
  readonly latencies: number[] = [];
  /** Dashboard samples received (BENCH_DASHBOARD_SSE=1). */
  dashboardEvents = 0;
  /** Keep-alive connections to the producer, one per POST in flight. */
  private http?: Pool;

  start(kind: 'producer' | 'consumer', name: string, logDir: string): AppProcess {
    const app = new AppProcess(kind, name, logDir, (_, line) => this.onLine(line));
    this.apps.push(app);
    return app;
  }

  /** Delivery of every message sent so far to each consumer. */
  readonly deliveries: Array<Promise<void>> = [];

  /** POSTs one message; resolves once accepted (202). Its delivery joins `deliveries`. */
  async send(url: string, id: string): Promise<void> {
    this.deliveries.push(
      new Promise<void>((resolve) =>
        this.pending.set(id, { sentAt: performance.now(), seenBy: 0, resolve }),
      ),
    );
    this.http ??= new Pool(url, { connections: UNPACED.inFlight });
    const response = await this.http.request({
      method: 'POST',
      path: '/messages',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, text: `bench ${id}` }),
    });
    await response.body.dump();
    if (response.statusCode !== 202) throw new Error(`POST ${id}: ${response.statusCode}`);
  }

  /** Closes the connections to the producer. */
  async close(): Promise<void> {
    await this.http?.close();
  }

  /** Resolves once every message sent so far reached each consumer. */
  async delivered(): Promise<void> {
    await Promise.all(this.deliveries.splice(0));
  }

  private onLine(line: string): void {
    const id = RECEIVED.exec(line)?.[1];
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (!entry) return;
    this.latencies.push(performance.now() - entry.sentAt);
    if (++entry.seenBy < CONSUMERS.length) return;
    this.pending.delete(id!);
    entry.resolve();
  }
}

async function status(url: string): Promise<{ isMaster: boolean; clients: unknown[] }> {
  return (await (await fetch(`${url}/status`, { signal: AbortSignal.timeout(3000) })).json()) as {
    isMaster: boolean;
    clients: unknown[];
  };
}

/** One workload: messages per second delivered to all 3, and latency percentiles (ms). */
async function run(flow: Flow, url: string, label: string, paced?: number) {
  const count = paced ? PACED.messages : UNPACED.messages;
  flow.latencies.length = 0;
  const started = performance.now();
  const send = (i: number) => flow.send(url, `${label}-${i}`);
  if (paced) {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await sleep(Math.max(0, started + (i * 1000) / paced - performance.now()));
        await send(i);
      }),
    );
  } else {
    await pool(count, send, UNPACED.inFlight);
  }
  const accepted = count / ((performance.now() - started) / 1000);
  await flow.delivered();
  const seconds = (performance.now() - started) / 1000;
  return {
    accepted,
    rate: count / seconds,
    p50: percentile(flow.latencies, 50),
    p99: percentile(flow.latencies, 99),
  };
}

function line({ rate, p50, p99 }: { rate: number; p50: number; p99: number }): string {
  return (
    `flow: ${Math.round(rate).toLocaleString('en-US')} msgs/s to each of ${CONSUMERS.length} ` +
    `consumers, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`
  );
}

export async function benchFlow({
  connectString,
  root,
  progress,
  record,
}: BenchContext): Promise<void> {
  if (!existsSync('dist/apps/producer/src/main.js')) {
    console.log('flow: skipped (the apps are not built: npm run build)');
    record.note('skipped: the apps are not built (npm run build)');
    return;
  }
  Object.assign(process.env, {
    ZK_CONNECT: connectString,
    ZK_NAMESPACE: root,
    ZK_SESSION_TIMEOUT_MS: '10000',
    PORT: '0',
    NO_COLOR: '1',
  });
  const logDir = mkdtempSync(join(tmpdir(), 'nestjs-zookeeper-bench-flow-'));
  const flow = new Flow();
  try {
    const producer = flow.start('producer', 'flow-producer', logDir);
    CONSUMERS.forEach((name) => flow.start('consumer', name, logDir));
    const url = await withDeadline('the apps to listen', producer.url, 90_000);
    await withDeadline('the apps to listen', Promise.all(flow.apps.map((app) => app.url)), 90_000);
    await withDeadline(
      'a master and 3 registered consumers',
      (async () => {
        for (;;) {
          const now = await status(url).catch(() => undefined);
          if (now?.isMaster && now.clients.length === CONSUMERS.length) return;
          await sleep(200);
        }
      })(),
      60_000,
    );
    // BENCH_DASHBOARD_SSE=1: a dashboard page open on the producer during the run (its event stream).
    if (process.env.BENCH_DASHBOARD_SSE === '1') watchDashboard(url, flow);
    progress('apps up; warming up');
    await withDeadline(
      'the warm-up',
      pool(300, (i) => flow.send(url, `warm-${i}`), 16).then(() => flow.delivered()),
      60_000,
    );
    const driver = process.env.ZOOKEEPER_DRIVER ?? 'wire';
    const server = listeningPid(connectString);
    const unpacedRound = async (label: string) => {
      const before = cpuSample(flow.apps, server);
      const result = await withDeadline(label, run(flow, url, label), 180_000);
      return {
        ...result,
        cpu: cpuPerMessage(before, cpuSample(flow.apps, server), UNPACED.messages),
      };
    };
    // Two unpaced rounds, the second measured: during the first, V8 in each app and the JVM of
    // ZooKeeper are still compiling the hot paths (on the same 2 cores), which cost about as much
    // CPU per message as the flow itself. Both are printed.
    progress(`unpaced (${UNPACED.inFlight} POSTs in flight), driver ${driver}: first round`);
    const cold = await unpacedRound('cold');
    console.log(
      `  first unpaced round (JITs compiling): ${Math.round(cold.rate).toLocaleString('en-US')} ` +
        `msgs/s; CPU per message: ${cold.cpu}`,
    );
    record.note(`CPU per message, first unpaced round (JITs compiling): ${cold.cpu}`);
    progress(`unpaced (${UNPACED.inFlight} POSTs in flight), driver ${driver}: measured round`);
    const unpaced = await unpacedRound('fast');
    const cpu = unpaced.cpu;
    console.log(
      `${line(unpaced)} (unpaced, ${UNPACED.messages} messages; ` +
        `POSTs accepted at ${Math.round(unpaced.accepted)}/s)`,
    );
    console.log(`  CPU per message, unpaced: ${cpu}`);
    record.note(`CPU per message, unpaced: ${cpu}`);
    const pacedRound = async (label: string) => {
      const before = cpuSample(flow.apps, server);
      const result = await withDeadline(label, run(flow, url, label, PACED.perSecond), 180_000);
      return {
        ...result,
        cpu: cpuPerMessage(before, cpuSample(flow.apps, server), PACED.messages),
      };
    };
    // Paced, too, twice and the second measured: one message at a time takes code paths the
    // batches of the unpaced rounds hardly ran, and ZooKeeper's JVM was still compiling them
    // (its C2 compiler thread used more CPU than its request threads in a first paced round).
    progress(`paced at ${PACED.perSecond}/s: first round`);
    const pacedCold = await pacedRound('paced-cold');
    console.log(
      `  first paced round (JITs compiling): p50 ${pacedCold.p50.toFixed(1)} ms, ` +
        `p99 ${pacedCold.p99.toFixed(1)} ms; CPU per message: ${pacedCold.cpu}`,
    );
    record.note(
      `first paced round (JITs compiling): p50 ${pacedCold.p50.toFixed(1)} ms, ` +
        `p99 ${pacedCold.p99.toFixed(1)} ms; CPU per message: ${pacedCold.cpu}`,
    );
    progress(`paced at ${PACED.perSecond}/s: measured round`);
    const paced = await pacedRound('paced');
    const pacedCpu = paced.cpu;
    if (process.env.BENCH_DASHBOARD_SSE === '1') {
      console.log(
        `  dashboard: ${flow.dashboardEvents} samples streamed to one SSE client meanwhile`,
      );
    }
    console.log(`${line(paced)} (paced ${PACED.perSecond}/s, ${PACED.messages} messages)`);
    console.log(`  CPU per message, paced: ${pacedCpu}`);
    record.note(`CPU per message, paced: ${pacedCpu}`);
    record.setting(
      `the demo's apps from dist/ as processes: one producer (the elected master, which accepts ` +
        `the POSTs) and ${CONSUMERS.length} consumers, driver ${driver}; latency from a POST ` +
        `being sent to its delivery line from a consumer; delivered once all ` +
        `${CONSUMERS.length} consumers printed it; unpaced and paced: each the second of two ` +
        `rounds (the first, with the JITs compiling, in the notes)`,
    );
    record.workload({
      name: `unpaced, ${UNPACED.messages} messages, ${UNPACED.inFlight} POSTs in flight`,
      unit: 'msgs/s',
      ours: { name: 'the demo flow', rate: unpaced.rate, p50Ms: unpaced.p50, p99Ms: unpaced.p99 },
      note: `POSTs accepted at ${Math.round(unpaced.accepted)}/s; to each of ${CONSUMERS.length} consumers`,
    });
    record.workload({
      name: `paced ${PACED.perSecond}/s, ${PACED.messages} messages`,
      unit: 'msgs/s',
      ours: { name: 'the demo flow', rate: paced.rate, p50Ms: paced.p50, p99Ms: paced.p99 },
    });
    record.target({
      what: `>= ${TARGET_RATE.toLocaleString('en-US')} msgs/s unpaced to each of ${CONSUMERS.length} consumers`,
      measured: `${Math.round(unpaced.rate).toLocaleString('en-US')} msgs/s`,
      met: unpaced.rate >= TARGET_RATE,
    });
    record.target({
      what: `p99 <= ${TARGET_P99_MS} ms paced at ${PACED.perSecond}/s`,
      measured: `${paced.p99.toFixed(1)} ms`,
      met: paced.p99 <= TARGET_P99_MS,
    });
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `  targets: >= ${TARGET_RATE.toLocaleString('en-US')} msgs/s unpaced: ${verdict(unpaced.rate >= TARGET_RATE)}; ` +
        `p99 <= ${TARGET_P99_MS} ms paced at ${PACED.perSecond}/s: ${verdict(paced.p99 <= TARGET_P99_MS)} ` +
        `(driver ${driver}; app logs ${logDir})`,
    );
  } finally {
    await flow.close().catch(() => undefined);
    await Promise.all(flow.apps.map((app) => app.stop()));
  }
}

/**
 * CPU time used so far (ms) by each app process, by the ZooKeeper server when it runs on this
 * machine (undefined off Linux or when not found) and by this process.
 */
function cpuSample(
  apps: readonly AppProcess[],
  serverPid: number | undefined,
): { apps: Array<number | undefined>; server: number | undefined; self: number } {
  const self = process.cpuUsage();
  return {
    apps: apps.map((app) => processCpuMs(app.pid)),
    server: serverPid === undefined ? undefined : processCpuMs(serverPid),
    self: (self.user + self.system) / 1000,
  };
}

/**
 * Where a message's CPU goes: each app, this process (the load generator and the parsing) and the
 * ZooKeeper server.
 */
function cpuPerMessage(
  before: ReturnType<typeof cpuSample>,
  after: ReturnType<typeof cpuSample>,
  messages: number,
): string {
  const each = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined
      ? 'n/a'
      : `${Math.round(((to - from) * 1000) / messages)} µs`;
  const apps = before.apps.map((from, i) => each(from, after.apps[i]));
  const server =
    before.server === undefined ? '' : `, ZooKeeper server ${each(before.server, after.server)}`;
  return (
    `producer ${apps[0]}, consumers ${apps.slice(1).join(' / ')}, ` +
    `load generator (this process) ${each(before.self, after.self)}${server}`
  );
}

/**
 * The process listening on the first address of `connectString`'s port on this machine (Linux:
 * the listening socket's inode in /proc/net/tcp{,6}, then the process holding it), i.e. the
 * ZooKeeper server the apps use when the bench started it; undefined when none is found.
 */
function listeningPid(connectString: string): number | undefined {
  const port = Number(connectString.split(',')[0].split(':').pop());
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let rows: string[];
    try {
      rows = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/);
      // 0A: LISTEN
      if (state === '0A' && parseInt(local.split(':')[1], 16) === port) inodes.add(inode);
    }
  }
  if (!inodes.size) return undefined;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (socket && inodes.has(socket)) return Number(pid);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** User + system CPU of a process from /proc (Linux), in ms. */
function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times, on every platform Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Reads the producer's dashboard event stream (what an open page does) until the apps stop. */
function watchDashboard(url: string, flow: Flow): void {
  void fetch(`${url}/dashboard/api/events`)
    .then(async (response) => {
      let events = 0;
      for await (const chunk of response.body!) {
        events += String(Buffer.from(chunk as Uint8Array)).split('\n\n').length - 1;
        flow.dashboardEvents = events;
      }
    })
    .catch(() => undefined);
}
