// Runs the demo apps as processes, then kills, pauses and stops consumers to show that a client's
// registration lives as long as its ZooKeeper session. `npm run demo [-- --keep-running]`
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZookeeperTestingServer } from '../libs/zookeeper/src/testing/index.js';

// Short, so that the expiry steps take seconds; the testing server allows down to 400 ms.
const SESSION_TIMEOUT_MS = 4000;
Object.assign(process.env, { ZK_SESSION_TIMEOUT_MS: SESSION_TIMEOUT_MS, PORT: 0, NO_COLOR: 1 });
const keepRunning = process.argv.includes('--keep-running');
const tty = process.stdout.isTTY === true;
const startedAt = Date.now();
const logDir = mkdtempSync(join(tmpdir(), 'nestjs-zookeeper-demo-'));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

type App = { name: string; pid: number; proc: ChildProcess; url: Promise<string> };
const running = new Set<App>();
const results: Array<{ title: string; ok: boolean; ms: number }> = [];
const seen = { pids: new Set<number>(), joins: 0, leaves: 0 };
let clients: Array<{ node: string; name?: string; pid?: number }> = [];
let producerUrl = '';
let server: ZookeeperTestingServer | undefined;
// The first Ctrl-C either ends the --keep-running wait or aborts the current step.
const abort = new AbortController();
const aborted = once(abort.signal, 'abort').then(() => Promise.reject(abort.signal.reason));
aborted.catch(() => undefined);
let endWait: (() => void) | undefined;

const say = (line: string) => console.log(`${tty ? '\r\x1b[K' : ''}${line}`);
const progress = (line: string) =>
  tty && process.stdout.write(`\r\x1b[K${line.slice(0, (process.stdout.columns || 100) - 1)}`);
const hasPid = (pid: number) => clients.some((client) => client.pid === pid);
const shortNode = (text: string) => text.replace(/_c_[0-9a-f-]{36}-/g, '_c_…-');
const getJson = async <T>(url: string) =>
  (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as T;

function startApp(name: string): App {
  const main = `dist/apps/${name.startsWith('consumer') ? 'consumer' : 'producer'}/src/main.js`;
  const proc = spawn(process.execPath, [main], {
    env: { ...process.env, CLIENT_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C in a terminal reaches only this script, which stops apps in order.
    detached: true,
  });
  const log = createWriteStream(join(logDir, `${name}-${proc.pid}.log`));
  proc.stderr?.pipe(log, { end: false });
  const app: App = { name, pid: proc.pid ?? -1, proc, url: Promise.resolve('') };
  app.url = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      const url = /^listening on (\S+)/.exec(line)?.[1];
      if (url) resolve(url);
      const event = /\[(?:Clients|Registration)\] (.*)$/.exec(line)?.[1];
      if (event) say(`      ${name.padEnd(10)} │ ${shortNode(event)}`);
    });
    proc.once('exit', (code, signal) => {
      running.delete(app);
      reject(new Error(`${name} exited (${signal ?? code}) before listening; see ${log.path}`));
    });
  });
  app.url.catch(() => undefined);
  running.add(app);
  return app;
}

async function stop(app: App, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (app.proc.exitCode !== null || app.proc.signalCode !== null) return;
  const exited = once(app.proc, 'exit');
  app.proc.kill('SIGCONT'); // a stopped process acts on SIGTERM only once it runs again
  app.proc.kill(signal);
  // Never cleared: kill() on a child that has exited does nothing.
  setTimeout(() => app.proc.kill('SIGKILL'), 5000).unref();
  await exited;
}

/** Reads the producer's /status and counts nodes that appeared (joins) or vanished (leaves). */
async function poll(): Promise<void> {
  const url = `${producerUrl}/status`;
  const status = await getJson<{ clients: typeof clients }>(url).catch(() => ({ clients }));
  const before = new Set(clients.map((client) => client.node));
  const now = new Set(status.clients.map((client) => client.node));
  seen.joins += [...now].filter((node) => !before.has(node)).length;
  seen.leaves += [...before].filter((node) => !now.has(node)).length;
  status.clients.forEach((client) => client.pid && seen.pids.add(client.pid));
  clients = status.clients;
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (await poll(); !done(); await poll()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (${secs(timeoutMs)})`);
    const names = clients.map((client) => client.name).join(', ') || 'none';
    progress(`      … ${secs(Date.now() - startedAt)} waiting for ${what} · registered: ${names}`);
    await sleep(150);
  }
}

async function step(title: string, run: () => Promise<string | void>): Promise<void> {
  const started = Date.now();
  progress(`      … ${title}`);
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

async function demo(): Promise<boolean> {
  let [producer, a, b] = [] as App[];
  await step('ZooKeeper is up', async () => {
    if (process.env.ZK_CONNECT) return `using ZK_CONNECT=${process.env.ZK_CONNECT}`;
    server = await ZookeeperTestingServer.start();
    process.env.ZK_CONNECT = server.connectString;
    return `started a throwaway server on ${server.connectString}`;
  });
  await step('producer, consumer-a and consumer-b are listening', async () => {
    [producer, a, b] = ['producer', 'consumer-a', 'consumer-b'].map(startApp);
    const timeout = sleep(30_000).then(() => Promise.reject(new Error('no app listening in 30 s')));
    [producerUrl] = await Promise.race([Promise.all([producer.url, a.url, b.url]), timeout]);
    return `producer at ${producerUrl}`;
  });
  await step('the producer lists both consumers, and every /health is up', async () => {
    await waitFor('both consumers to register', () => hasPid(a.pid) && hasPid(b.pid), 15_000);
    for (const app of [producer, a, b]) {
      const health = await getJson<{ status: string }>(`${await app.url}/health`);
      if (health.status !== 'ok') throw new Error(`${app.name}'s /health says ${health.status}`);
    }
  });
  await step('SIGKILL consumer-b: it leaves only when its session expires', async () => {
    const killedAt = Date.now();
    await stop(b, 'SIGKILL');
    await waitFor('the dead consumer-b to leave', () => !hasPid(b.pid), 3 * SESSION_TIMEOUT_MS);
    if (Date.now() - killedAt < SESSION_TIMEOUT_MS / 2) throw new Error('it left before expiry');
    return `its session timeout is ${secs(SESSION_TIMEOUT_MS)}`;
  });
  await step('restart consumer-b: it registers again', async () => {
    b = startApp('consumer-b');
    await waitFor('the new consumer-b to register', () => hasPid(b.pid), 15_000);
    return `new pid ${b.pid}`;
  });
  await step('SIGSTOP consumer-a past its session timeout, then SIGCONT', async () => {
    a.proc.kill('SIGSTOP');
    await waitFor('the frozen consumer-a to leave', () => !hasPid(a.pid), 3 * SESSION_TIMEOUT_MS);
    a.proc.kill('SIGCONT');
    await waitFor('consumer-a to re-register', () => hasPid(a.pid), 15_000);
    return 'it left, then re-registered from a new session';
  });
  if (keepRunning) {
    say(`\n  All up: try curl ${producerUrl}/status. Press Ctrl-C for the last step.\n`);
    await new Promise<void>((resolve) => (endWait = resolve));
    endWait = undefined;
  }
  await step('SIGTERM both consumers: they leave at once', async () => {
    await Promise.all([stop(a), stop(b)]);
    const left = () => !hasPid(a.pid) && !hasPid(b.pid);
    await waitFor('both consumers to leave', left, SESSION_TIMEOUT_MS / 2);
    return 'a clean shutdown closes the session, no timeout to wait for';
  });
  return true;
}

function summary(allObserved: boolean): void {
  const rows = results.map(({ ok, ms, title }, index) => {
    return `  ${String(index + 1).padStart(2)}  ${ok ? 'ok  ' : 'FAIL'}  ${secs(ms).padStart(6)}  ${title}`;
  });
  say(`\n  Summary\n${rows.join('\n')}
  clients seen    ${seen.pids.size} processes: ${seen.joins} joins, ${seen.leaves} leaves
  total time      ${secs(Date.now() - startedAt)}
  app logs        ${logDir}
\n  ${allObserved ? 'All steps observed.' : 'Not every step was observed: see FAIL above.'}`);
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
process.on('exit', () => running.forEach((app) => app.proc.kill('SIGKILL')));

say('nestjs-zookeeper demo: consumers register ephemeral znodes under /clients and the producer');
say("watches them; a znode lives as long as its session. Lines with │ are the apps' own logs.\n");
const ok = await demo().catch(() => false); // a failure was already reported by its step
await Promise.all([...running].map((app) => stop(app)));
await server?.close();
summary(ok);
process.exit(ok ? 0 : abort.signal.aborted ? 130 : 1);
