import { Logger, LoggerService } from '@nestjs/common';
import { skip, Subscription } from 'rxjs';
import { ConnectionState } from '../../connection/connection-state.enum.js';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { validatePath } from '../../connection/paths.js';
import { toBuffer } from '../../connection/request-checks.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Stat, Watcher } from '../../connection/zookeeper-types.js';
import { ConnectionClosedError, InvalidOptionsError } from '../../errors/library-errors.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../../errors/zookeeper-errors.js';
import { ignoreNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';

export interface PersistentEphemeralNodeOptions {
  /**
   * Create an EPHEMERAL_SEQUENTIAL node: `path` is then the name prefix (`/group/member-`) and
   * every (re-)creation gets a new name. Default false (a plain EPHEMERAL node at `path`).
   */
  sequential?: boolean;
  /** Curator's protected names (`_c_<uuid>-<name>`). Default: true for sequential nodes. */
  protected?: boolean;
  /**
   * At `start()`, delete a node found at the (non-sequential) path that belongs to another
   * session and take its place, as Curator's ServiceDiscovery does when a restarted instance
   * registers again before its old session expired. Default false: `start()` fails with
   * NodeExistsError. After start a foreign node is never deleted; it is waited for.
   */
  replaceExisting?: boolean;
  logger?: LoggerService;
}

type Phase = 'new' | 'starting' | 'started' | 'closed';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 8000;

/**
 * Once `start()` resolves, this process keeps its ephemeral node present with the latest data
 * until `close()`, creating it again after every session expiry and after a deletion by someone
 * else. Across a partition the node is absent between an expiry and the re-creation, and while
 * the connection is SUSPENDED it may be gone without this process knowing.
 *
 * Layout, like Curator's PersistentNode in an ephemeral mode: an EPHEMERAL node at
 * `requestedPath`, or with `sequential` an EPHEMERAL_SEQUENTIAL node with `requestedPath` as its
 * name prefix (protected by default: `_c_<uuid>-` in front of the name); `path` is the node as
 * last created.
 *
 * Guaranteed:
 * - After `start()` resolves the node exists with the given data, owned by the current session.
 * - When a session expires and the connection opens a new one (CONNECTED after EXPIRED), the node
 *   is created again with its latest data. A node of ours left by the dead session (the server has
 *   not expired it yet, e.g. after a long partition that the client declared expired locally) is
 *   deleted first, so no reader sees the old and the new node together.
 * - A node deleted by someone else while the session lives is created again.
 * - `update()` resolves once the new data is in ZooKeeper; the latest data is also what any later
 *   re-creation writes.
 * - `close()` deletes the node (if it is still ours) and stops all re-creation.
 *
 * Not guaranteed (partitions, pauses):
 * - Presence during faults. Between an expiry and the re-creation the node is absent, and while
 *   the connection is SUSPENDED it may be gone without this process knowing.
 * - A stable name: a sequential node gets a new name (and sequence number) on every
 *   re-creation: read `path`.
 * - Taking a path over after start: a non-sequential path held by another live session is not
 *   taken over; the node is created once that session's node goes away.
 */
export class PersistentEphemeralNode {
  private bytes: Buffer;
  /** What the node we own holds, as far as we wrote it. */
  private written?: Buffer;
  private current?: string;
  /** Sessions this node was created in: a node owned by one of them that is not live is stale. */
  private readonly ownSessions = new Set<string>();
  private readonly armed = new Set<string>();
  private readonly runner: SerialRunner;
  private readonly logger: LoggerService;
  private readonly sequential: boolean;
  private phase: Phase = 'new';
  private subscription?: Subscription;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = FIRST_RETRY_MS;
  private closing?: Promise<void>;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly requestedPath: string,
    data: Buffer | string = Buffer.alloc(0),
    private readonly options: PersistentEphemeralNodeOptions = {},
  ) {
    this.sequential = options.sequential ?? false;
    validatePath(requestedPath, 'PersistentEphemeralNode', this.sequential);
    this.bytes = toBuffer(data);
    this.logger = options.logger ?? new Logger('PersistentEphemeralNode');
    this.runner = new SerialRunner(
      () => this.ensure(),
      (error) => this.onPassFailed(error),
    );
  }

  /** The path of the node as last created (undefined before `start()` and after `close()`). */
  get path(): string | undefined {
    return this.phase === 'closed' ? undefined : this.current;
  }

  get data(): Buffer {
    return this.bytes;
  }

  /** Creates the node; resolves with its path. */
  async start(): Promise<string> {
    if (this.phase !== 'new')
      throw new InvalidOptionsError('a PersistentEphemeralNode starts once');
    this.phase = 'starting';
    this.subscription = this.connection.state$.pipe(skip(1)).subscribe((state) => {
      if (state === ConnectionState.CLOSED) this.stop();
      // Checked again after every reconnect too: the node may have been deleted meanwhile.
      else if (state === ConnectionState.CONNECTED || state === ConnectionState.RECONNECTED)
        this.runner.kick();
    });
    try {
      await this.runner.run();
    } catch (error) {
      this.stop();
      throw error;
    }
    if (this.phase !== 'starting' || !this.current)
      throw new InvalidOptionsError('the node was closed while it was being created');
    this.phase = 'started';
    return this.current;
  }

  /** Replaces the data; resolves once it is written (waits for the connection if need be). */
  async update(data: Buffer | string): Promise<void> {
    if (this.phase === 'closed') throw new InvalidOptionsError('the node is closed');
    this.bytes = toBuffer(data);
    if (this.phase !== 'new') await this.runner.run();
  }

  /** Deletes the node and stops keeping it; idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.stop();
      this.closing = this.deleteOwnNode();
    }
    return this.closing;
  }

  private get active(): boolean {
    return this.phase === 'starting' || this.phase === 'started';
  }

  /** One pass: leaves exactly one node of ours with the latest data, or says why not. */
  private async ensure(): Promise<void> {
    if (!this.active) return;
    await this.connection.whenConnected();
    for (;;) {
      if (!this.active) return;
      if (this.current) {
        const stat = await this.existsWatched(this.current);
        const owner = stat?.ephemeralOwner;
        if (stat && owner === this.connection.session.id) return this.writeLatest(this.current);
        if (stat && (this.ownSessions.has(owner!) || this.mayReplace())) {
          await this.deleteVersion(this.current, stat);
          continue;
        }
        if (stat && !this.sequential) {
          if (this.phase === 'starting')
            throw new NodeExistsError({ operation: 'PersistentEphemeralNode', path: this.current });
          this.logger.warn(`${this.current} belongs to session ${owner}: waiting for it to go`);
          return;
        }
        if (this.sequential) this.current = undefined;
      }
      await this.create();
    }
  }

  private async create(): Promise<void> {
    const bytes = this.bytes;
    this.ownSessions.add(this.connection.session.id);
    try {
      this.current = await this.connection.create(this.requestedPath, bytes, {
        mode: this.sequential ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL,
        protected: this.options.protected,
        createParents: true,
      });
      this.written = bytes;
    } catch (error) {
      // Someone else's node (or a stale one of ours): the next round looks at its owner.
      if (this.sequential || !(error instanceof NodeExistsError)) throw error;
      this.current = this.requestedPath;
      this.written = undefined;
    }
  }

  private async writeLatest(path: string): Promise<void> {
    this.retryDelayMs = FIRST_RETRY_MS;
    const bytes = this.bytes;
    if (this.written?.equals(bytes)) return;
    await this.connection.set(path, bytes);
    this.written = bytes;
  }

  /** Reads the node's stat with one pending deletion watch per path, whatever the passes. */
  private async existsWatched(path: string): Promise<Stat | undefined> {
    let watch: Watcher | undefined;
    if (!this.armed.has(path)) {
      this.armed.add(path);
      watch = () => {
        this.armed.delete(path);
        if (this.active) this.runner.kick();
      };
    }
    try {
      return await this.connection.exists(path, { watch });
    } catch (error) {
      // A failed request withdraws its watcher: it will never fire.
      if (watch) this.armed.delete(path);
      throw error;
    }
  }

  private mayReplace(): boolean {
    return this.phase === 'starting' && !!this.options.replaceExisting;
  }

  private async deleteVersion(path: string, stat: Stat): Promise<void> {
    await this.connection.delete(path, { version: stat.version }).catch(ignoreNoNode);
    if (!this.sequential) this.written = undefined;
  }

  private onPassFailed(error: unknown): void {
    // start() reports its own failure; a closed connection or node needs nothing more.
    if (this.phase !== 'started' || error instanceof ConnectionClosedError) return;
    const connectionTrouble = error instanceof ZookeeperError && error.isRetryable;
    const message = `could not keep ${this.current ?? this.requestedPath}: ${(error as Error).message}`;
    if (connectionTrouble) this.logger.warn(message);
    else this.logger.error(message);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.runner.kick(), this.retryDelayMs);
    this.retryDelayMs = Math.min(MAX_RETRY_MS, this.retryDelayMs * 2);
  }

  private stop(): void {
    this.phase = 'closed';
    this.subscription?.unsubscribe();
    clearTimeout(this.retryTimer);
  }

  private async deleteOwnNode(): Promise<void> {
    await this.runner.idle();
    const path = this.current;
    if (!path || this.connection.state === ConnectionState.CLOSED) return;
    try {
      const stat = await this.connection.exists(path);
      if (stat && this.ownSessions.has(stat.ephemeralOwner))
        await this.connection.delete(path, { version: stat.version });
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof BadVersionError) return;
      if (error instanceof ConnectionClosedError) return;
      throw error;
    }
  }
}
