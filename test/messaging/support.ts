import { ChildProcess, spawn } from 'node:child_process';

/** A fixture child process running under tsx, with its stdout split into lines. */
export class FixtureProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<() => void> = [];

  constructor(fixture: string, args: readonly string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let rest = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once `matches` holds for the lines seen; fails after `timeoutMs`. */
  async until(matches: (lines: string[]) => boolean, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (!matches(this.lines)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** "<offset> <n>" lines as printed by the subscriber fixture. */
export function received(lines: readonly string[]): Array<{ offset: number; n: number }> {
  return lines
    .filter((line) => /^\d+ \d+$/.test(line))
    .map((line) => {
      const [offset, n] = line.split(' ').map(Number);
      return { offset, n };
    });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Message = { n: number };

/** Messages `{ n }` for n in [from, to). */
export const range = (from: number, to: number): Message[] =>
  Array.from({ length: to - from }, (_, i) => ({ n: from + i }));

/** Polls `condition` until it holds; fails after 30 s naming `what`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}
