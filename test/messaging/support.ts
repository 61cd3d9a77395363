import { ChildProcess, spawn } from 'node:child_process';
import { firstValueFrom, take, toArray } from 'rxjs';
import {
  BroadcastDelivery,
  BroadcastLog,
  BroadcastLogEvent,
  CreateMode,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { firstMatch, until } from '../support/until.js';

/** A fixture child process running under tsx, with its stdout split into lines. */
export class FixtureProcess {
  private static readonly running = new Set<FixtureProcess>();
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  /** Set once the process exited and its output was read to the end. */
  private closed = false;

  constructor(fixture: string, args: readonly string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let rest = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      this.lines.push(...parts);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.once('close', () => (this.closed = true));
    FixtureProcess.running.add(this);
    void this.exited.then(() => FixtureProcess.running.delete(this));
  }

  /** Kills every fixture process still running and waits until they are reaped: for afterAll. */
  static async stopAll(): Promise<void> {
    await Promise.all([...FixtureProcess.running].map((fixture) => fixture.stop()));
  }

  /** Resolves once `matches` holds for the lines seen; fails after `timeoutMs` or at its exit. */
  until(matches: (lines: string[]) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return until(
      () => {
        if (matches(this.lines)) return true;
        if (this.closed) throw new Error(`the fixture process ended before ${what}`);
        return false;
      },
      { message: what, timeoutMs },
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kills the process (if it still runs) and waits until it is reaped: for afterAll. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
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

export type Message = { n: number };

/** Messages `{ n }` for n in [from, to). */
export const range = (from: number, to: number): Message[] =>
  Array.from({ length: to - from }, (_, i) => ({ n: from + i }));

/** Subscribes, acks everything, and collects deliveries until `count` arrived. */
export function collect(
  log: BroadcastLog<Message>,
  id: string,
  count: number,
  options: { from?: 'earliest' | 'latest' } = {},
): Promise<BroadcastDelivery<Message>[]> {
  return firstValueFrom(
    log.deliveries(id, { ...options, autoAck: true }).pipe(take(count), toArray()),
  );
}

export type Registration = Extract<BroadcastLogEvent, { type: 'registered' }>;

export const isRegistration = (event: BroadcastLogEvent): event is Registration =>
  event.type === 'registered';

/**
 * Resolves once `id` has registered on `log` (its offset stored and its client node created).
 * Call it before subscribing.
 */
export function registration(log: BroadcastLog<Message>, id: string): Promise<Registration> {
  return firstMatch(
    log.events$,
    (event): event is Registration => isRegistration(event) && event.subscriberId === id,
    { message: `${id} to register`, timeoutMs: 20_000 },
  );
}

/**
 * The zxid of a fresh write: a marker node created (and left) under `/markers`, which must exist
 * (a create that fails takes a zxid too). On a server of its own, the advance between two marker
 * writes counts every write transaction in between.
 */
export async function zxidNow(zk: ZookeeperConnection): Promise<number> {
  const path = await zk.create('/markers/m-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  return Number((await zk.exists(path))!.czxid);
}

/** A promise and its resolver: a gate a handler waits at. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * `promise`, or a failure naming `what` (a function: called at the failure, to show state) once
 * `ms` passed without it settling: for awaits that have no timeout of their own (a gate a handler
 * opens, a close), so a hang says where it was.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const message = typeof what === 'function' ? what() : what;
      reject(new Error(`timed out after ${ms} ms: ${message}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every message of the log `topic`, in log order: a throwaway subscriber from the earliest offset
 * reads `count` messages (default: as many as the log holds now), then is removed.
 */
export async function readWholeLog<T>(
  zk: ZookeeperConnection,
  topic: string,
  count?: number,
): Promise<T[]> {
  const log = new BroadcastLog<T>(zk, topic);
  const expected = count ?? (await log.stats()).messages;
  const messages: T[] = [];
  if (expected > 0) {
    await new Promise<void>((resolve, reject) => {
      const sub = log.deliveries('reader', { from: 'earliest', autoAck: true }).subscribe({
        next: ({ message }) => {
          messages.push(message);
          if (messages.length === expected) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
  }
  await log.removeSubscriber('reader');
  await log.close();
  return messages;
}
