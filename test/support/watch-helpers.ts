import { Observable, Subscription } from 'rxjs';
import {
  NodeSnapshot,
  NoNodeError,
  TreeCache,
  TreeCacheEvent,
  WatchEvent,
  ZookeeperConnection,
} from 'nestjs-zookeeper';

interface Waiter<T> {
  matches: (value: T) => boolean;
  resolve: (value: T) => void;
}

/** Subscribes at once and records what an Observable emits; `until` awaits a matching value. */
export class Recorder<T> {
  readonly values: T[] = [];
  error?: unknown;
  completed = false;
  private readonly waiters = new Set<Waiter<T>>();
  private readonly subscription: Subscription;
  private readonly ended: Promise<void>;

  constructor(source: Observable<T>) {
    let end!: () => void;
    this.ended = new Promise<void>((resolve) => (end = resolve));
    this.subscription = source.subscribe({
      next: (value) => {
        this.values.push(value);
        for (const waiter of [...this.waiters]) {
          if (!waiter.matches(value)) continue;
          this.waiters.delete(waiter);
          waiter.resolve(value);
        }
      },
      error: (error: unknown) => {
        this.error = error;
        end();
      },
      complete: () => {
        this.completed = true;
        end();
      },
    });
  }

  get latest(): T | undefined {
    return this.values[this.values.length - 1];
  }

  /** The latest value if it matches, else the next one that does; fails after `timeoutMs`. */
  until(matches: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
    if (this.values.length > 0 && matches(this.latest as T))
      return Promise.resolve(this.latest as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const latest = JSON.stringify(describe(this.latest));
        reject(new Error(`timed out waiting for ${what}; latest value: ${latest}`));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        matches,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves when the Observable errors or completes. */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  unsubscribe(): void {
    this.subscription.unsubscribe();
  }
}

function describe(value: unknown): unknown {
  const node = value as NodeSnapshot | undefined;
  if (node && Buffer.isBuffer(node.data)) {
    return { path: node.path, data: node.data.toString(), version: node.stat.version };
  }
  return value;
}

/** Resolves with the next event `connection` reports for `path` through a watch of our own. */
export async function nextDataEvent(
  connection: ZookeeperConnection,
  path: string,
): Promise<() => Promise<WatchEvent>> {
  let fired!: (event: WatchEvent) => void;
  const event = new Promise<WatchEvent>((resolve) => (fired = resolve));
  await connection.exists(path, { watch: (e) => fired(e) });
  return () => event;
}

/** What the tree tests compare: a node's data, version and mzxid. */
export interface NodeView {
  data: string;
  version: number;
  mzxid: number;
}

/** Every value of `values` is strictly greater than the one before. */
export function isStrictlyIncreasing(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || value > values[index - 1]);
}

/** The server's subtree at `root` (root included), read node by node: path → data and version. */
export async function readTree(
  connection: ZookeeperConnection,
  root: string,
): Promise<Map<string, NodeView>> {
  const tree = new Map<string, NodeView>();
  const visit = async (path: string): Promise<void> => {
    try {
      const [{ data, stat }, children] = await Promise.all([
        connection.get(path),
        connection.getChildren(path),
      ]);
      tree.set(path, { data: data.toString(), version: stat.version, mzxid: stat.mzxid });
      await Promise.all(children.map((child) => visit(`${path === '/' ? '' : path}/${child}`)));
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  };
  await visit(root);
  return tree;
}

/** The same shape as `readTree`, from a cache view. */
export function viewOf(nodes: ReadonlyMap<string, NodeSnapshot>): Map<string, NodeView> {
  const view = new Map<string, NodeView>();
  for (const [path, node] of nodes) {
    view.set(path, {
      data: node.data.toString(),
      version: node.stat.version,
      mzxid: node.stat.mzxid,
    });
  }
  return view;
}

/** Sorted entries, so two views compare equal regardless of insertion order. */
export function sortedEntries<V>(map: ReadonlyMap<string, V>): Array<[string, V]> {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Applies tree events to a copy of the initialized snapshot, checking on the way that no
 * 'updated' goes back in mzxid and that adds and removes match the view they apply to.
 */
export class EventReplay {
  readonly view = new Map<string, NodeSnapshot>();
  readonly problems: string[] = [];
  initialized = false;
  counts = { added: 0, updated: 0, removed: 0 };

  apply(event: TreeCacheEvent): void {
    if (event.type === 'initialized') {
      if (this.initialized) this.problems.push('initialized twice');
      this.initialized = true;
      for (const [path, node] of event.snapshot) this.view.set(path, node);
      return;
    }
    if (!this.initialized) this.problems.push(`${event.type} ${event.path} before initialized`);
    const previous = this.view.get(event.path);
    this.counts[event.type]++;
    if (event.type === 'added') {
      if (previous) this.problems.push(`added ${event.path} twice`);
      this.view.set(event.path, event.node);
    } else if (event.type === 'updated') {
      if (!previous) this.problems.push(`updated ${event.path} before added`);
      else if (event.node.stat.mzxid <= previous.stat.mzxid) {
        this.problems.push(`updated ${event.path} to an older mzxid`);
      }
      this.view.set(event.path, event.node);
    } else {
      if (!previous) this.problems.push(`removed ${event.path} that was not there`);
      this.view.delete(event.path);
    }
  }
}

/** Resolves once the cache holds exactly `expected` (checked now and after each event). */
export async function convergence(
  cache: TreeCache,
  expected: ReadonlyMap<string, NodeView>,
): Promise<void> {
  const want = JSON.stringify(sortedEntries(expected));
  const matches = () => JSON.stringify(sortedEntries(viewOf(cache.current()))) === want;
  if (matches()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      const have = viewOf(cache.current());
      const missing = [...expected.keys()].filter((path) => !have.has(path)).slice(0, 5);
      const extra = [...have.keys()].filter((path) => !expected.has(path)).slice(0, 5);
      reject(new Error(`no convergence: missing ${missing.join()} extra ${extra.join()}`));
    }, 20_000);
    const subscription = cache.events$.subscribe(() => {
      if (!matches()) return;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve();
    });
  });
}

/**
 * Lets pending microtasks run: a loop notified by a watch issues its re-read (and registers its
 * next watch) within microtasks, so counts read right after an awaited emission can catch it
 * between the two. After a macrotask turn it is either idle with its watch or has a read in flight.
 */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `connection` has handled every watch event the server sent its session before the
 * call, and the reads those events started. A session gets its watch events and replies in order:
 * the reply to a first round trip comes after every earlier event (whose handlers issue their
 * re-reads within microtasks), the reply to a second after those re-reads' replies.
 */
export async function caughtUp(connection: ZookeeperConnection): Promise<void> {
  await connection.exists('/');
  await connection.exists('/');
  await settled();
}
