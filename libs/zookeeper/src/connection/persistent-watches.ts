import { DriverFailure } from '../driver/driver-failure.js';
import { PersistentWatchMode } from '../driver/driver-session.interface.js';
import { notifyWatcher } from './one-shot-watches.js';
import { Watcher, WatchEventType } from './zookeeper-types.js';

/** The mode `addWatch` is not: removing a path's watch removes both, so one is set again. */
export function otherMode(mode: PersistentWatchMode): PersistentWatchMode {
  return mode === PersistentWatchMode.PERSISTENT
    ? PersistentWatchMode.PERSISTENT_RECURSIVE
    : PersistentWatchMode.PERSISTENT;
}

/** A watch the server no longer had (the session moved on, or it was removed already). */
export function whenNoWatcher(failure: unknown): void {
  if (!(failure instanceof DriverFailure && failure.rc === NO_WATCHER)) throw failure;
}

const NO_WATCHER = -121;

interface Registration {
  readonly serverPath: string;
  readonly mode: PersistentWatchMode;
  readonly watcher: Watcher;
}

/**
 * The persistent watchers of one connection, by server path and mode. An event reaches every
 * watcher of its path, and every recursive watcher of an ancestor (or of the path itself). When
 * the session ends each watcher is told once (SESSION_LOST) and forgotten: the server forgot the
 * watch too.
 */
export class PersistentWatches {
  private readonly registrations = new Set<Registration>();
  /** The server request that sets each path's watch of a mode, while it is in flight. */
  private readonly settingUp = new Map<string, Promise<void>>();
  /**
   * The server request removing each path's watches, while it is in flight: a watch of that path
   * set up meanwhile waits for it, or the removal (which the server may apply after the new
   * addWatch, e.g. when a connection loss makes it a retry) would take the new watch with it.
   */
  private readonly removing = new Map<string, Promise<void>>();

  constructor(private readonly onWatcherError: (error: unknown) => void) {}

  /**
   * Registers a watcher and resolves once the server watches its path in its mode: `setUp` is
   * called for the first watcher of a path and mode (later ones wait for that same request). On
   * failure the watcher is not registered.
   */
  async add(
    serverPath: string,
    mode: PersistentWatchMode,
    watcher: Watcher,
    setUp: () => Promise<void>,
  ): Promise<Registration> {
    const key = `${mode}:${serverPath}`;
    const registration = { serverPath, mode, watcher };
    let pending = this.settingUp.get(key);
    if (!pending && this.count(serverPath, mode) === 0) {
      const removal = this.removing.get(serverPath);
      pending = (removal ? removal.then(setUp, setUp) : setUp()).finally(() =>
        this.settingUp.delete(key),
      );
      this.settingUp.set(key, pending);
    }
    this.registrations.add(registration);
    try {
      await pending;
    } catch (error) {
      this.registrations.delete(registration);
      throw error;
    }
    return registration;
  }

  /** Forgets a watcher; says which modes of its path no watcher needs any more. */
  remove(registration: Registration): { wasLast: boolean; otherModeInUse: boolean } {
    if (!this.registrations.delete(registration)) return { wasLast: false, otherModeInUse: false };
    return {
      wasLast: this.count(registration.serverPath, registration.mode) === 0,
      otherModeInUse: this.count(registration.serverPath, otherMode(registration.mode)) > 0,
    };
  }

  /** Records the server request removing `serverPath`'s watches (see `removing`). */
  removingWatches(serverPath: string, removal: Promise<void>): void {
    const settled = removal.then(
      () => undefined,
      () => undefined,
    );
    this.removing.set(serverPath, settled);
    void settled.then(() => {
      if (this.removing.get(serverPath) === settled) this.removing.delete(serverPath);
    });
  }

  isRegistered(registration: Registration): boolean {
    return this.registrations.has(registration);
  }

  dispatch(type: WatchEventType, serverPath: string, clientPath: string): void {
    for (const registration of [...this.registrations]) {
      if (!this.reaches(registration, type, serverPath)) continue;
      this.notify(registration.watcher, type, clientPath);
    }
  }

  /** The session is gone: every watcher hears SESSION_LOST on its own path, once. */
  loseAll(clientPathOf: (serverPath: string) => string): void {
    const lost = [...this.registrations];
    this.registrations.clear();
    for (const { watcher, serverPath } of lost)
      this.notify(watcher, WatchEventType.SESSION_LOST, clientPathOf(serverPath));
  }

  get size(): number {
    return this.registrations.size;
  }

  private reaches(registration: Registration, type: WatchEventType, path: string): boolean {
    const watched = registration.serverPath;
    if (registration.mode === PersistentWatchMode.PERSISTENT) return path === watched;
    // A recursive watch reports created, changed and deleted below it, never children events.
    if (type === WatchEventType.CHILDREN) return false;
    return path === watched || watched === '/' || path.startsWith(`${watched}/`);
  }

  private count(serverPath: string, mode: PersistentWatchMode): number {
    let count = 0;
    for (const registration of this.registrations)
      if (registration.serverPath === serverPath && registration.mode === mode) count++;
    return count;
  }

  private notify(watcher: Watcher, type: WatchEventType, path: string): void {
    notifyWatcher(watcher, { type, path }, this.onWatcherError);
  }
}
