import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { createInterface } from 'node:readline';
import { open } from 'node:fs/promises';
import { ZookeeperTestingError } from '../errors/library-errors.js';

export interface JavaProcessOptions {
  javaPath: string;
  /** Everything after `java`: JVM options, `-cp`, main class, program arguments. */
  args: readonly string[];
  /** The JVM's stdout and stderr are appended to this file. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface JavaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/*
 * The JVM is not Node's child: it runs under this /bin/sh watchdog. The watchdog keeps the
 * read end of a pipe whose write end only Node holds, so when Node dies in any way (even
 * SIGKILL, which runs no handler) the pipe reaches EOF and the watchdog SIGKILLs the JVM.
 * The JVM itself gets /dev/null as stdin and no copy of the pipe, so it cannot keep it open.
 * The watchdog also reports the JVM's pid and exit status, which Node could not learn
 * otherwise about a process that is not its child.
 */
const WATCHDOG_SCRIPT = [
  'log="$1"; shift',
  // The shell's own notices ("Killed") belong in the log, not in the test runner's output.
  'exec 3<&0 </dev/null 2>>"$log"',
  '"$@" 3<&- >>"$log" 2>&1 &',
  'jpid=$!',
  '( while read -r _ <&3; do :; done; kill -9 "$jpid" 2>/dev/null ) &',
  'wpid=$!',
  'exec 3<&-',
  'echo "pid $jpid"',
  'wait "$jpid"',
  'echo "exit $?"',
  'kill "$wpid" 2>/dev/null',
].join('\n');

const live = new Set<JavaProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; the pipe watchdog is the backstop for harder deaths.
  process.on('exit', () => {
    for (const javaProcess of live) javaProcess.signal('SIGKILL');
  });
}

function asRefable(stream: unknown): { ref(): void; unref(): void } | undefined {
  const candidate = stream as { ref?: () => void; unref?: () => void } | null;
  return candidate?.ref && candidate.unref
    ? (candidate as { ref(): void; unref(): void })
    : undefined;
}

function signalFromShellStatus(status: number): NodeJS.Signals | null {
  if (status <= 128) return null;
  const number = status - 128;
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === number);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** A JVM started through the watchdog; see `JavaProcess.spawn`. */
export class JavaProcess {
  private readonly exitPromise: Promise<JavaExit>;
  private exitInfo: JavaExit | undefined;
  private stopped = false;
  private waiters = 0;

  private constructor(
    readonly pid: number,
    private readonly watchdog: ChildProcess,
    exited: Promise<JavaExit>,
  ) {
    this.exitPromise = exited.then((info) => {
      this.exitInfo = info;
      live.delete(this);
      return info;
    });
  }

  /** Starts the JVM and resolves once its pid is known (not once it is ready for anything). */
  static spawn(options: JavaProcessOptions): Promise<JavaProcess> {
    installExitHook();
    const watchdog = spawn(
      '/bin/sh',
      ['-c', WATCHDOG_SCRIPT, 'java-watchdog', options.logFile, options.javaPath, ...options.args],
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'ignore'],
        // Its own process group keeps a terminal's Ctrl-C from killing the watchdog before Node.
        detached: true,
      },
    );
    return new Promise((resolve, reject) => {
      let javaProcess: JavaProcess | undefined;
      let resolveExit!: (info: JavaExit) => void;
      const exited = new Promise<JavaExit>((res) => (resolveExit = res));
      const lines = createInterface({ input: watchdog.stdout! });
      lines.on('line', (line) => {
        const [kind, value] = line.split(' ');
        if (kind === 'pid' && !javaProcess) {
          javaProcess = new JavaProcess(Number(value), watchdog, exited);
          live.add(javaProcess);
          // A forgotten server must not keep Node alive (the exit hook and the pipe still
          // clean it up); operations that await the JVM re-ref the pipe while they wait.
          watchdog.unref();
          asRefable(watchdog.stdin)?.unref();
          asRefable(watchdog.stdout)?.unref();
          resolve(javaProcess);
        } else if (kind === 'exit') {
          const status = Number(value);
          const signal = signalFromShellStatus(status);
          resolveExit({ code: signal ? null : status, signal });
        }
      });
      watchdog.on('error', (error) => reject(error));
      watchdog.on('close', (code, signal) => {
        if (!javaProcess) {
          reject(
            new ZookeeperTestingError(
              `Java watchdog shell exited before starting the JVM (code ${code}, signal ${signal})`,
            ),
          );
          return;
        }
        // Watchdog killed from outside: the JVM may still run, so make sure it does not.
        if (!javaProcess.exitInfo) {
          javaProcess.signal('SIGKILL');
          resolveExit({ code: null, signal: 'SIGKILL' });
        }
      });
    });
  }

  /** Resolves when the JVM has exited; Node stays alive while something awaits it. */
  get exited(): Promise<JavaExit> {
    return this.keepingNodeAlive(this.exitPromise);
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exitStatus(): JavaExit | undefined {
    return this.exitInfo;
  }

  /** Sends a signal to the JVM; `false` when it has already exited. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    try {
      process.kill(this.pid, signal);
      if (signal === 'SIGSTOP') this.stopped = true;
      if (signal === 'SIGCONT') this.stopped = false;
      return true;
    } catch {
      return false;
    }
  }

  get paused(): boolean {
    return this.running && this.stopped;
  }

  pause(): boolean {
    return this.signal('SIGSTOP');
  }

  resume(): boolean {
    return this.signal('SIGCONT');
  }

  /** SIGKILL, resolved once the JVM is gone. */
  async kill(): Promise<JavaExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (the JVM runs its shutdown hooks), escalating to SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<JavaExit> {
    if (!this.running) return this.exitInfo!;
    this.signal('SIGTERM');
    // A stopped process only acts on SIGTERM once continued.
    if (this.stopped) this.signal('SIGCONT');
    const exit = await this.waitForExit(timeoutMs);
    return exit ?? this.kill();
  }

  /** The exit status, or `undefined` if the JVM still runs after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<JavaExit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
    );
    try {
      return await this.keepingNodeAlive(Promise.race([this.exitPromise, timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  private async keepingNodeAlive<T>(promise: Promise<T>): Promise<T> {
    const stdout = asRefable(this.watchdog.stdout);
    if (this.waiters++ === 0) stdout?.ref();
    try {
      return await promise;
    } finally {
      if (--this.waiters === 0) stdout?.unref();
    }
  }

  /** Pid of the /bin/sh watchdog (for tests that need to kill it). */
  get watchdogPid(): number | undefined {
    return this.watchdog.pid;
  }
}

/** The last `lines` lines of a log file, or a note saying why there are none. */
export async function readLogTail(file: string, lines = 30, maxBytes = 64 * 1024): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const text = buffer.toString('utf8').trimEnd();
      return text ? text.split('\n').slice(-lines).join('\n') : '(log file is empty)';
    } finally {
      await handle.close();
    }
  } catch (error) {
    return `(cannot read log file: ${(error as Error).message})`;
  }
}
