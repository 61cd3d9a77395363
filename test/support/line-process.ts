import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One line a child printed, split into words, with the time the test received it. */
export interface ChildLine {
  text: string;
  words: string[];
  at: number;
}

/**
 * A child process of a recipe test (a Node fixture or the Java Curator peer) that talks in lines:
 * the test waits for lines matching a predicate and keeps all of them for the assertions.
 */
export class LineProcess {
  readonly lines: ChildLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly listeners = new Set<(line: ChildLine) => void>();
  /** Resolves once the process exited and its output was read to the end. */
  private readonly closed: Promise<void>;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const line = { text, words: text.trim().split(/\s+/), at: Date.now() };
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    // Writing to a child that died must not crash the test process.
    this.child.stdin!.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False once the process has exited (or was killed). */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * The first line (from index `from` on) matching `predicate`; fails after `timeoutMs`, or as
   * soon as the process has ended without printing one.
   */
  waitFor(
    predicate: (line: ChildLine) => boolean,
    timeoutMs = 20_000,
    from = 0,
  ): Promise<ChildLine> {
    const seen = this.lines.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        reject(
          new Error(
            `${this.label}: ${why}; ` +
              `stdout: ${JSON.stringify(this.lines.map((l) => l.text).slice(-20))}; stderr: ${this.stderr}`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`no matching line within ${timeoutMs} ms`), timeoutMs);
      const listener = (line: ChildLine) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(line);
      };
      this.listeners.add(listener);
      void this.closed.then(() => {
        if (this.listeners.has(listener)) fail('ended without a matching line');
      });
    });
  }

  /** The first line whose first word is `word`. */
  waitForWord(word: string, timeoutMs?: number, from?: number): Promise<ChildLine> {
    return this.waitFor((line) => line.words[0] === word, timeoutMs, from);
  }

  onLine(listener: (line: ChildLine) => void): void {
    this.listeners.add(listener);
  }

  send(text: string): void {
    this.child.stdin!.write(`${text}\n`);
  }

  endInput(): void {
    this.child.stdin!.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Kills the process and waits until it is reaped, so no child outlives the test file. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.kill(signal);
    await this.exited;
  }

  get stderrTail(): string {
    return this.stderr;
  }
}

/** Runs a TypeScript fixture with tsx; it can import 'nestjs-zookeeper' (tsconfig paths). */
export function spawnFixture(label: string, file: string, args: string[]): LineProcess {
  return new LineProcess(label, process.execPath, ['--import', 'tsx', file, ...args]);
}
