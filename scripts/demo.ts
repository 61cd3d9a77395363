// The master/client flow end to end: an embedded ZooKeeper, 2 producers (one elected master) and
// 3 consumers as processes; sends messages and jobs over HTTP, SIGKILLs a consumer and the master
// midway, and exits 0 only if every consumer received every message and every job was done.
// `npm run demo [-- --messages 300 --jobs 100 --rate 40 --keep-running]`, ZK_CONNECT to use yours.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ZookeeperTestingServer } from '../libs/zookeeper/src/testing/index.js';
import { AppKind, AppProcess } from './demo/app-process.js';
import { DeliveryTally } from './demo/delivery-tally.js';
import { Sender } from './demo/sender.js';

// Short, so that the master takeover takes seconds; the testing server allows down to 400 ms.
const SESSION_TIMEOUT_MS = 4000;
const PRODUCERS = ['producer-1', 'producer-2'];
const CONSUMERS = ['consumer-a', 'consumer-b', 'consumer-c'];
const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    jobs: { type: 'string', default: '100' },
    rate: { type: 'string', default: '40' },
    'keep-running': { type: 'boolean', default: false },
  },
});
const count = (flag: 'messages' | 'jobs' | 'rate', min: number) => {
  const value = Number(flags[flag]);
  if (Number.isInteger(value) && value >= min) return value;
  console.error(`--${flag} must be an integer of at least ${min}, got '${flags[flag]}'`);
  process.exit(2);
};
const [MESSAGES, JOBS, RATE] = [count('messages', 3), count('jobs', 0), count('rate', 1)];

Object.assign(process.env, { ZK_SESSION_TIMEOUT_MS: SESSION_TIMEOUT_MS, PORT: 0, NO_COLOR: 1 });
// A fresh namespace on someone's ensemble: offsets of an earlier run must not count in this one.
if (process.env.ZK_CONNECT && !process.env.ZK_NAMESPACE) {
  process.env.ZK_NAMESPACE = `nestjs-zookeeper-demo-${Date.now()}`;
}
const tty = process.stdout.isTTY === true;
const startedAt = Date.now();
const logDir = mkdtempSync(join(tmpdir(), 'nestjs-zookeeper-demo-'));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const apps = new Map<string, AppProcess>();
const urls = new Map<string, string>();
const tally = new DeliveryTally();
const sender = new Sender(
  () => PRODUCERS.map((name) => urls.get(name)).filter((url) => !!url) as string[],
);
const sent = { messages: [] as string[], jobs: [] as string[], refused: 0 };
const results: Array<{ title: string; ok: boolean; ms: number }> = [];
const masters: string[] = [];
let server: ZookeeperTestingServer | undefined;
let takeoverMs: number | undefined;
// The first Ctrl-C either ends the --keep-running wait or aborts the current step.
const abort = new AbortController();
const aborted = new Promise<never>((_, reject) =>
  abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error)),
);
aborted.catch(() => undefined);
let endWait: (() => void) | undefined;
// After the summary, the apps' shutdown lines would only clutter it.
let quiet = false;

const say = (line: string) => console.log(`${tty ? '\r\x1b[K' : ''}${line}`);
const getJson = async <T>(url: string) =>
  (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as T;

type ProducerStatus = {
  name: string;
  master: string | null;
  isMaster: boolean;
  clients: unknown[];
};

function start(kind: AppKind, name: string): AppProcess {
  // After Ctrl-C the cleanup has its list of apps already: start nothing it would miss.
  if (abort.signal.aborted) throw new Error(`not starting ${name}: interrupted`);
  const app = new AppProcess(kind, name, logDir, (from, line) => {
    if (from.kind === 'consumer') tally.record(from.name, from.pid, line);
    const note = /\[(?:Master|Registration)\] (.*)$/.exec(line)?.[1];
    if (note && !quiet)
      say(`      ${from.name.padEnd(11)}│ ${note.replace(/_c_[0-9a-f-]{36}-/g, '_c_…-')}`);
  });
  apps.set(name, app);
  app.url.then(
    (url) => apps.get(name) === app && urls.set(name, url),
    () => undefined, // reported by the step that waits for this app
  );
  return app;
}

async function kill(name: string): Promise<AppProcess> {
  const app = apps.get(name)!;
  urls.delete(name);
  await app.stop('SIGKILL');
  return app;
}

async function producerStatus(name?: string): Promise<ProducerStatus | undefined> {
  for (const [producer, url] of urls) {
    if (name && producer !== name) continue;
    if (!PRODUCERS.includes(producer)) continue;
    const status = await getJson<ProducerStatus>(`${url}/status`).catch(() => undefined);
    if (status) return status;
  }
  return undefined;
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (${secs(timeoutMs)})`);
    await sleep(150);
  }
}

async function step(title: string, run: () => Promise<string | void>): Promise<void> {
  const started = Date.now();
  say(`  … ${title}`);
  try {
    const note = await Promise.race([run(), aborted]);
    results.push({ title, ok: true, ms: Date.now() - started });
    say(`  ✔ ${title}${note ? `: ${note}` : ''} (${secs(Date.now() - started)})`);
  } catch (error) {
    results.push({ title, ok: false, ms: Date.now() - started });
    say(`  ✘ ${title}: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

function progressLine(): string {
  const received = CONSUMERS.map(
    (name) => `${name.slice(-1)} ${tally.receivedOf(name, sent.messages)}`,
  );
  return [
    `sent ${sent.messages.length}/${MESSAGES}`,
    `jobs done ${tally.jobsDoneOf(sent.jobs)}/${JOBS}`,
    `received ${received.join(' ')}`,
    `master ${masters.at(-1) ?? '?'}`,
    secs(Date.now() - startedAt),
  ].join(' · ');
}

/** Live progress: one rewritten line on a terminal, a line every 2 s otherwise. */
function showProgress(): () => void {
  const timer = setInterval(
    () =>
      tty ? process.stdout.write(`\r\x1b[K    ${progressLine()}`) : say(`    ${progressLine()}`),
    tty ? 250 : 2000,
  );
  const masterPoll = setInterval(() => {
    void producerStatus().then((status) => {
      if (status?.master && status.master !== masters.at(-1)) masters.push(status.master);
    });
  }, 500);
  return () => {
    clearInterval(timer);
    clearInterval(masterPoll);
  };
}

async function killAndRestartConsumer(name: string): Promise<void> {
  const old = await kill(name);
  say(
    `    ⚡ SIGKILL ${name} (pid ${old.pid}) after ${tally.received(name)} messages; restarting it`,
  );
  const app = start('consumer', name);
  await app.url;
  say(`    ↻ ${name} is back (pid ${app.pid}) and resumes from its committed offset`);
}

async function killAndRestartMaster(): Promise<void> {
  let master: string | null | undefined;
  // Both /status calls can time out on a loaded machine: ask until one answers.
  await until('a known master', async () => !!(master = (await producerStatus())?.master), 15_000);
  if (!master || !apps.has(master)) throw new Error(`no running master to kill (${master})`);
  const old = await kill(master);
  const killedAt = Date.now();
  say(
    `    ⚡ SIGKILL the master ${master} (pid ${old.pid}); its standby takes over after the session timeout`,
  );
  const standby = PRODUCERS.find((name) => name !== master)!;
  await until(
    `${standby} to take over`,
    async () => (await producerStatus(standby))?.isMaster === true,
    6 * SESSION_TIMEOUT_MS,
  );
  takeoverMs = Date.now() - killedAt;
  masters.push(standby);
  say(`    ↻ ${standby} is master after ${secs(takeoverMs)}; restarting ${master} as a standby`);
  await start('producer', master).url;
}

/** Resolves with the failure's message (or undefined): a fault step never rejects unhandled. */
function settled(step: Promise<void>): Promise<string | undefined> {
  return step.then(
    () => undefined,
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      say(`    ✘ ${message}`);
      return message;
    },
  );
}

async function send(): Promise<string> {
  const inFlight = new Set<Promise<void>>();
  const faults: Array<Promise<string | undefined>> = [];
  const interval = 1000 / RATE;
  const jobEvery = JOBS > 0 ? MESSAGES / JOBS : Infinity;
  let jobsQueued = 0;
  const post = (path: '/messages' | '/jobs', id: string, list: string[]) => {
    const request = sender
      .post(path, { id, text: `demo ${path.slice(1, -1)} ${id}` })
      .then(() => void list.push(id))
      .catch((error: unknown) => {
        sent.refused++;
        say(`    ✘ ${String(error)}`);
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  for (let i = 0; i < MESSAGES; i++) {
    await sleep(Math.max(0, startedSending + (i + 1) * interval - Date.now()));
    if (abort.signal.aborted) break;
    if (i === Math.floor(MESSAGES / 3)) faults.push(settled(killAndRestartConsumer('consumer-b')));
    if (i === Math.floor((2 * MESSAGES) / 3)) faults.push(settled(killAndRestartMaster()));
    post('/messages', `msg-${String(i + 1).padStart(5, '0')}`, sent.messages);
    while (jobsQueued < JOBS && jobsQueued * jobEvery <= i) {
      post('/jobs', `job-${String(++jobsQueued).padStart(5, '0')}`, sent.jobs);
    }
    while (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const failures = (await Promise.all(faults)).filter((failure) => failure !== undefined);
  if (failures.length > 0) throw new Error(failures.join('; '));
  if (sent.refused > 0) throw new Error(`${sent.refused} requests were never accepted`);
  return `${sent.messages.length} messages and ${sent.jobs.length} jobs accepted`;
}
let startedSending = 0;

async function demo(): Promise<void> {
  await step('ZooKeeper is up', async () => {
    if (process.env.ZK_CONNECT) {
      return `using ZK_CONNECT=${process.env.ZK_CONNECT}, namespace ${process.env.ZK_NAMESPACE}`;
    }
    server = await ZookeeperTestingServer.start();
    process.env.ZK_CONNECT = server.connectString;
    return `started a throwaway server on ${server.connectString}`;
  });
  await step(`${PRODUCERS.join(', ')} and ${CONSUMERS.join(', ')} are listening`, async () => {
    PRODUCERS.forEach((name) => start('producer', name));
    CONSUMERS.forEach((name) => start('consumer', name));
    const timeout = sleep(45_000).then(() =>
      Promise.reject(new Error('not all listening in 45 s')),
    );
    await Promise.race([Promise.all([...apps.values()].map((app) => app.url)), timeout]);
  });
  await step('a master is elected and every consumer is registered', async () => {
    let status: ProducerStatus | undefined;
    await until(
      'a master and 3 registered clients',
      async () => !!(status = await producerStatus())?.master && status.clients.length >= 3,
      30_000,
    );
    masters.push(status!.master!);
    return `master ${status!.master}, ${status!.clients.length} clients under /clients`;
  });
  const stopProgress = showProgress();
  try {
    await step(`send ${MESSAGES} messages and ${JOBS} jobs at ${RATE}/s, with crashes`, () => {
      startedSending = Date.now();
      return send();
    });
    await step('every consumer received every message, each job was done', async () => {
      const complete = () =>
        CONSUMERS.every((name) => tally.receivedOf(name, sent.messages) === sent.messages.length) &&
        tally.jobsDoneOf(sent.jobs) === sent.jobs.length;
      await until('the last deliveries', complete, 60_000).catch(() => undefined);
      if (!complete()) throw new Error('some messages or jobs were not delivered in 60 s');
    });
  } finally {
    stopProgress();
  }
}

function summary(): boolean {
  const rows = CONSUMERS.map((name) => tally.summary(name, sent.messages));
  const jobs = tally.jobsSummary(sent.jobs);
  const lost = rows.reduce((sum, row) => sum + row.lost, 0) + jobs.lost;
  const disordered = rows.reduce((sum, row) => sum + row.outOfOrder, 0);
  const cell = (value: string | number, width = 10) => String(value).padStart(width);
  const table = [
    `  ${''.padEnd(12)}${cell('sent')}${cell('delivered')}${cell('lost')}${cell('duplicates', 12)}${cell('redelivered', 13)}${cell('out of order', 14)}`,
    ...rows.map(
      (row) =>
        `  ${row.name.padEnd(12)}${cell(sent.messages.length)}${cell(row.delivered)}${cell(row.lost)}${cell(row.duplicates, 12)}${cell(row.redelivered, 13)}${cell(row.outOfOrder, 14)}`,
    ),
    `  ${'jobs'.padEnd(12)}${cell(sent.jobs.length)}${cell(jobs.done)}${cell(jobs.lost)}${cell(jobs.duplicates, 12)}${cell('-', 13)}${cell('-', 14)}`,
  ];
  const steps = results.map(
    ({ ok, ms, title }, index) =>
      `  ${String(index + 1).padStart(2)}  ${ok ? 'ok  ' : 'FAIL'}  ${secs(ms).padStart(6)}  ${title}`,
  );
  const good = results.every((result) => result.ok) && lost === 0 && disordered === 0;
  say(`\n  Steps\n${steps.join('\n')}\n\n  Deliveries\n${table.join('\n')}
  masters       ${masters.join(' → ') || '?'}${takeoverMs ? ` (takeover ${secs(takeoverMs)})` : ''}
  total time    ${secs(Date.now() - startedAt)}
  app logs      ${logDir}
\n  ${good ? 'Nothing lost: every consumer got every message, in order.' : `FAILED: ${lost} lost, ${disordered} out of order, or a step failed (see above).`}`);
  return good;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (endWait) return endWait();
    // A second signal means the cleanup itself is stuck: leave now; the exit hook below kills.
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error(`interrupted by ${signal}`));
  });
}
// Last resort for a crash in this script; the ZooKeeper JVM has its own watchdog.
process.on('exit', () => apps.forEach((app) => app.signal('SIGKILL')));

say('nestjs-zookeeper demo: consumers join the group /clients (ephemeral member znodes); the');
say('elected producer (master) appends every message to the /messages log; every consumer reads');
say("it all. Lines with │ are the apps' own logs.\n");
await demo().catch(() => undefined); // a failure was already reported by its step
const good = summary();
quiet = true;
if (flags['keep-running'] && !abort.signal.aborted) {
  const list = [...urls].map(([name, url]) => `    ${name.padEnd(12)} ${url}/status`).join('\n');
  say(
    `\n  Still running (Ctrl-C to stop):\n${list}\n  e.g. curl -X POST -H 'content-type: application/json' -d '{"text":"hi"}' ${urls.get(PRODUCERS[0]) ?? ''}/messages\n`,
  );
  await new Promise<void>((resolve) => (endWait = resolve));
}
await Promise.all([...apps.values()].map((app) => app.stop()));
await server?.close();
process.exit(good ? 0 : abort.signal.aborted ? 130 : 1);
