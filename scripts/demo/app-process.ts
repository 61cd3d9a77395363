import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type AppKind = 'producer' | 'consumer';

/**
 * One demo app as a child process (dist/apps/<kind>/src/main.js): its stdout goes line by line to
 * `onLine` and to a log file, `url` resolves on its `listening on <url>` line.
 */
export class AppProcess {
  readonly pid: number;
  readonly url: Promise<string>;
  readonly logFile: string;
  private readonly proc: ChildProcess;

  constructor(
    readonly kind: AppKind,
    readonly name: string,
    logDir: string,
    onLine: (app: AppProcess, line: string) => void,
    /** More environment for this app (scripts/chaos.ts: DEMO_CHAOS_HOOKS). */
    env: NodeJS.ProcessEnv = {},
  ) {
    this.proc = spawn(process.execPath, [`dist/apps/${kind}/src/main.js`], {
      env: { ...process.env, ...env, INSTANCE_NAME: name },
      // The IPC channel closes when the demo dies, even by SIGKILL: the app then shuts down.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group: Ctrl-C in a terminal reaches only the demo, which stops apps in order.
      detached: true,
    });
    this.pid = this.proc.pid ?? -1;
    this.logFile = join(logDir, `${name}-${this.pid}.log`);
    const log = createWriteStream(this.logFile);
    this.proc.stderr?.pipe(log, { end: false });
    // Lines go to the file once per turn of the event loop, not one write each: at the bench's
    // rates the apps print thousands of lines a second, and each write is a trip through libuv's
    // thread pool on the cores the apps under test share.
    let unwritten = '';
    const writeLines = () => {
      log.write(unwritten);
      unwritten = '';
    };
    this.url = new Promise<string>((resolve, reject) => {
      createInterface({ input: this.proc.stdout! }).on('line', (line) => {
        if (unwritten === '') setImmediate(writeLines);
        unwritten += `${line}\n`;
        const url = /^listening on (\S+)/.exec(line)?.[1];
        if (url) resolve(url);
        onLine(this, line);
      });
      this.proc.once('exit', (code, signal) =>
        reject(
          new Error(`${name} exited (${signal ?? code}) before listening; see ${this.logFile}`),
        ),
      );
    });
    this.url.catch(() => undefined);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  /** Sends `message` over the IPC channel (ignored when the app is gone). */
  send(message: object): void {
    if (this.running && this.proc.connected) this.proc.send(message);
  }

  /** Sends `signal` and waits for the exit; SIGKILL after 5 s if the app does not go. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGCONT'); // a stopped process acts on SIGTERM only once it runs again
    this.proc.kill(signal);
    // Never cleared: kill() on a child that has exited does nothing.
    setTimeout(() => this.proc.kill('SIGKILL'), 5000).unref();
    await exited;
  }
}
