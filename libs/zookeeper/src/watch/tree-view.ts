import { defer, Observable, startWith, Subject } from 'rxjs';
import { parentPath } from '../connection/paths.js';
import { NodeSnapshot } from './node-watch.js';

export type TreeCacheEvent =
  | { readonly type: 'initialized'; readonly snapshot: ReadonlyMap<string, NodeSnapshot> }
  /** For 'removed', `node` is the last state the cache held. */
  | {
      readonly type: 'added' | 'updated' | 'removed';
      readonly path: string;
      readonly node: NodeSnapshot;
    };

export interface TreeCacheOptions {
  /** Child names whose subtrees are neither read nor watched (e.g. bookkeeping nodes). */
  ignoreChild?: (name: string) => boolean;
}

interface StartSettlement {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The part of a tree cache that does not depend on how the subtree is watched: the nodes held,
 * the events derived from each change (`added`, `updated` only for a newer `mzxid`, `removed`),
 * the `initialized` snapshot (replayed to late subscribers), and the lifecycle (start settled once
 * loaded, close or fail once). A source (one-shot or persistent watches) feeds it.
 */
export class TreeView {
  readonly events$: Observable<TreeCacheEvent>;
  private readonly events = new Subject<TreeCacheEvent>();
  private readonly nodes = new Map<string, NodeSnapshot>();
  /** The paths held below each path, so a subtree is removed without scanning every node. */
  private readonly below = new Map<string, Set<string>>();
  private phase: 'new' | 'loading' | 'ready' | 'closed' = 'new';
  private started?: Promise<void>;
  private settleStart?: StartSettlement;
  private stopSource?: () => Promise<void>;
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    readonly rootPath: string,
    private readonly ignoreChild?: (name: string) => boolean,
  ) {
    this.events$ = defer(() =>
      this.phase === 'ready'
        ? this.events.pipe(startWith(initialized(this.nodes)))
        : this.events.asObservable(),
    );
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Enters loading and runs `launch` once; resolves when `ready()` is called (or on close). */
  start(launch: () => Promise<void>): Promise<void> {
    this.started ??= new Promise<void>((resolve, reject) => {
      if (this.phase === 'closed') return resolve();
      this.settleStart = { resolve, reject };
      this.phase = 'loading';
      launch().catch((error: unknown) => this.fail(error));
    });
    // The failure also reaches events$; a caller that does not await start() must not crash.
    this.started.catch(() => undefined);
    return this.started;
  }

  /** What stops the source; called once, on close or failure. */
  onStop(stop: () => Promise<void>): void {
    this.stopSource = stop;
  }

  /** The subtree is loaded: `initialized` is emitted and start() resolves (once). */
  ready(): void {
    if (this.phase !== 'loading') return;
    this.phase = 'ready';
    this.settleStart?.resolve();
    this.settleStart = undefined;
    this.events.next(initialized(this.nodes));
  }

  /** Completes `events$`; resolves once the source has stopped (its watches removed, if it can). */
  close(): Promise<void> {
    this.shutDown((settle) => {
      settle?.resolve();
      this.events.complete();
    });
    return this.stopped;
  }

  fail(error: unknown): void {
    this.shutDown((settle) => {
      settle?.reject(error);
      this.events.error(error);
    });
  }

  get(path: string): NodeSnapshot | undefined {
    return this.nodes.get(path);
  }

  current(): ReadonlyMap<string, NodeSnapshot> {
    return new Map(this.nodes);
  }

  paths(): string[] {
    return [...this.nodes.keys()];
  }

  /** Adds the node, or replaces it if `node` is newer (`mzxid`); emits what changed. */
  put(path: string, node: NodeSnapshot): void {
    if (this.phase === 'closed') return;
    const previous = this.nodes.get(path);
    if (previous && node.stat.mzxid <= previous.stat.mzxid) return;
    this.nodes.set(path, node);
    if (!previous && path !== '/') {
      const parent = parentPath(path);
      let siblings = this.below.get(parent);
      if (!siblings) this.below.set(parent, (siblings = new Set()));
      siblings.add(path);
    }
    this.emit(previous ? 'updated' : 'added', path, node);
  }

  remove(path: string): void {
    const previous = this.nodes.get(path);
    if (!previous) return;
    this.nodes.delete(path);
    const parent = parentPath(path);
    const siblings = this.below.get(parent);
    siblings?.delete(path);
    if (siblings?.size === 0) this.below.delete(parent);
    this.emit('removed', path, previous);
  }

  /** Removes `path` and every node held below it. */
  removeSubtree(path: string): void {
    for (const child of [...(this.below.get(path) ?? [])]) this.removeSubtree(child);
    this.remove(path);
  }

  /** True for the root and the paths below it that no ignored child name leads to. */
  covers(path: string): boolean {
    if (path === this.rootPath) return true;
    const prefix = this.rootPath === '/' ? '/' : `${this.rootPath}/`;
    if (!path.startsWith(prefix)) return false;
    return !path
      .slice(prefix.length)
      .split('/')
      .some((name) => this.ignores(name));
  }

  ignores(name: string): boolean {
    return this.ignoreChild?.(name) ?? false;
  }

  private emit(type: 'added' | 'updated' | 'removed', path: string, node: NodeSnapshot): void {
    if (this.phase === 'ready') this.events.next({ type, path, node });
  }

  private shutDown(finish: (settleStart: StartSettlement | undefined) => void): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.nodes.clear();
    this.below.clear();
    const settle = this.settleStart;
    this.settleStart = undefined;
    const stop = this.stopSource;
    this.stopSource = undefined;
    this.stopped = stop ? stop().catch(() => undefined) : Promise.resolve();
    finish(settle);
  }
}

function initialized(nodes: ReadonlyMap<string, NodeSnapshot>): TreeCacheEvent {
  return { type: 'initialized', snapshot: new Map(nodes) };
}
