import { createHash } from 'node:crypto';
import { WatchEventType, type Acl } from 'nestjs-zookeeper';
import { DriverFailure } from '../../../libs/zookeeper/src/driver/driver-failure.js';
import {
  DriverSession,
  DriverSessionConfig,
  DriverSessionListener,
} from '../../../libs/zookeeper/src/driver/driver-session.interface.js';
import { wireDriver } from '../../../libs/zookeeper/src/driver/wire/index.js';
import { until } from '../../support/until.js';

/** Records what a session reports to its listener. */
export class SessionEvents implements DriverSessionListener {
  /** 'connected', 'connecting', 'closed <code>' in order. */
  readonly states: string[] = [];
  readonly watches: Array<{ type: WatchEventType; path: string }> = [];
  readonly attempts: Error[] = [];

  connected(): void {
    this.states.push('connected');
  }

  connecting(): void {
    this.states.push('connecting');
  }

  closed(code: number): void {
    this.states.push(`closed ${code}`);
  }

  watch(type: WatchEventType, serverPath: string): void {
    this.watches.push({ type, path: serverPath });
  }

  attemptFailed(reason: Error): void {
    this.attempts.push(reason);
  }

  count(state: string): number {
    return this.states.filter((s) => s === state).length;
  }

  watchesOf(path: string): WatchEventType[] {
    return this.watches.filter((w) => w.path === path).map((w) => w.type);
  }

  /** Waits until `state` was reported `times` times. */
  async reached(state: string, times = 1, timeoutMs = 30_000): Promise<void> {
    await until(() => this.count(state) >= times, {
      timeoutMs,
      message: () => `'${state}' x${times}; states so far: ${this.states.join(', ')}`,
    });
  }

  /** Waits until `path` saw `count` watch events. */
  async watched(path: string, count = 1, timeoutMs = 20_000): Promise<WatchEventType[]> {
    await until(() => this.watchesOf(path).length >= count, {
      timeoutMs,
      message: () => `${count} watch events on ${path}; got ${JSON.stringify(this.watches)}`,
    });
    return this.watchesOf(path);
  }
}

/** Sessions opened by a test file, closed by `closeAll()`. */
export class WireSessions {
  private readonly opened: DriverSession[] = [];

  /** A session of the wire driver, not yet waited for. */
  create(config: Partial<DriverSessionConfig> & { connectString: string }): {
    session: DriverSession;
    events: SessionEvents;
  } {
    const events = new SessionEvents();
    const session = wireDriver.createSession(
      { sessionTimeoutMs: 4000, logLevel: 0, ...config },
      events,
    );
    this.opened.push(session);
    session.open();
    return { session, events };
  }

  /** A connected session of the wire driver. */
  async open(
    config: Partial<DriverSessionConfig> & { connectString: string },
  ): Promise<{ session: DriverSession; events: SessionEvents }> {
    const opened = this.create(config);
    await opened.events.reached('connected');
    return opened;
  }

  closeAll(): void {
    for (const session of this.opened) session.close();
  }
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The result code of a DriverFailure rejection. */
export async function failureCode(promise: Promise<unknown>): Promise<number> {
  const error = await rejection(promise);
  if (!(error instanceof DriverFailure)) throw error;
  return error.rc;
}

/** A digest ACL entry, as ZooKeeper computes it (user:base64(sha1(user:password))). */
export function digestAcl(user: string, password: string, perms = 31): Acl {
  const digest = createHash('sha1').update(`${user}:${password}`).digest('base64');
  return { perms, scheme: 'digest', id: `${user}:${digest}` };
}

/** Creates `path` and its missing parents (persistent, empty). */
export async function mkdirs(session: DriverSession, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = '/' + parts.slice(0, i).join('/');
    try {
      await session.create(prefix, Buffer.alloc(0), 0);
    } catch (error) {
      if (!(error instanceof DriverFailure) || error.rc !== -110) throw error;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
