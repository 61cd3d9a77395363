import { Logger, LoggerService } from '@nestjs/common';
import { Observable } from 'rxjs';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { NoAuthError, NodeExistsError, NoNodeError } from '../errors/zookeeper-errors.js';
import { ConnectionState } from './connection-state.enum.js';
import { DriverFailure } from '../driver/driver-failure.js';
import {
  DriverCapabilities,
  DriverName,
  DriverSession,
  PersistentWatchMode,
} from '../driver/driver-session.interface.js';
import { chooseDriver } from './driver-choice.js';
import { otherMode, PersistentWatches, whenNoWatcher } from './persistent-watches.js';
import { MultiFailure } from '../driver/multi.js';
import { CapabilityMissingError } from '../errors/driver-errors.js';
import {
  Transaction,
  TransactionOp,
  TransactionResult,
  toDriverOps,
  transactionError,
} from './transaction.js';
import { OneShotWatches, SET_WATCHES_HEADER_BYTES, WatchKind } from './one-shot-watches.js';
import { joinPath, normalizeNamespace, validatePath } from './paths.js';
import { Attempt, RequestExecutor } from './request-executor.js';
import { RetryPolicy } from './retry-policy.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { DRIVER_LOG_LEVELS, ZookeeperOptions } from './zookeeper-options.interface.js';
import { Acl, AuthInfo, SessionCredentials, Stat, Watcher } from './zookeeper-types.js';
import { whenNoNode } from '../internal/no-node.js';
import { createAttempt, planCreate } from './create-request.js';
import { prepareSession } from './session-preparation.js';
import {
  CreateOptions,
  DeleteOptions,
  VersionOptions,
  WatchOptions,
} from './request-options.interface.js';
import { assertAcl, checkVersion, toBuffer, validateConnectString } from './request-checks.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../driver/wire/index.js';
import {
  checkNumber,
  MAX_TIMER_MS,
  nonNegativeInteger,
  nonNegativeMs,
  oneOf,
  positiveMs,
} from '../internal/option-checks.js';

/** The longest TTL a server accepts (its TTL field has 40 bits). */
const MAX_TTL_MS = 2 ** 40 - 1;

/** The numeric options (and the log level), checked before anything is built from them. */
function checkConnectionNumbers(options: ZookeeperOptions): void {
  const owner = 'ZookeeperConnection';
  // Sent to the server as a 32-bit integer; it clamps it to its own bounds.
  checkNumber(owner, 'sessionTimeoutMs', options.sessionTimeoutMs, {
    integer: true,
    min: 1,
    max: MAX_TIMER_MS,
  });
  positiveMs(owner, 'connectTimeoutMs', options.connectTimeoutMs);
  nonNegativeInteger(owner, 'retry.maxRetries', options.retry?.maxRetries);
  nonNegativeMs(owner, 'retry.baseDelayMs', options.retry?.baseDelayMs);
  nonNegativeMs(owner, 'retry.maxDelayMs', options.retry?.maxDelayMs);
  nonNegativeMs(owner, 'retry.deadlineMs', options.retry?.deadlineMs);
  oneOf(owner, 'driverLogLevel', options.driverLogLevel, Object.keys(DRIVER_LOG_LEVELS));
}

/**
 * A ZooKeeper connection over a driver (`wire` or `native`): a promise API with typed errors, a state$
 * Observable, retries of idempotent operations, protected sequential creates, and a new session
 * opened automatically after expiry. Create it with `ZookeeperConnection.connect(options)`, or get
 * it injected from `ZookeeperModule`.
 *
 * (Longer than our other files for a reason: it is the public facade with one method per
 * ZooKeeper operation; the machinery behind them lives in session-lifecycle, one-shot-watches,
 * lost-replies, retry-policy, session-preparation, transaction and the driver.)
 */
export class ZookeeperConnection {
  readonly name: string;
  readonly connectString: string;
  readonly namespace: string;
  /** The driver under this connection (`options.driver`, ZOOKEEPER_DRIVER, or the default). */
  readonly driver: DriverName;
  /**
   * The servers' jute.maxbuffer as this connection knows it (`maxFrameBytes`, default 0xfffff):
   * no request above it can succeed, so storage and messaging keep their node sizes below it.
   */
  readonly maxFrameBytes: number;
  private readonly options: ZookeeperOptions;
  private readonly logger: LoggerService;
  private readonly executor: RequestExecutor;
  private readonly lifecycle: SessionLifecycle;
  private readonly watches: OneShotWatches;
  private readonly persistentWatches: PersistentWatches;
  private readonly auth: AuthInfo[];

  constructor(options: ZookeeperOptions) {
    validateConnectString(options?.connectString);
    checkConnectionNumbers(options);
    this.driver = chooseDriver(options);
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.options = options;
    this.name = options.name ?? 'default';
    this.connectString = options.connectString;
    this.namespace = normalizeNamespace(options.namespace);
    this.logger = options.logger ?? new Logger(`Zookeeper:${this.name}`);
    this.auth = [...(options.auth ?? [])];
    const onWatcherError = (error: unknown) =>
      this.logger.error(`a watcher threw: ${String(error)}`);
    // The native driver registers every watch again in one SetWatches packet (see OneShotWatches);
    // its servers' frame limit is the default one (it cannot be told otherwise).
    this.watches = new OneShotWatches(
      onWatcherError,
      this.driver === 'native' ? DEFAULT_MAX_FRAME_BYTES - SET_WATCHES_HEADER_BYTES : Infinity,
    );
    this.persistentWatches = new PersistentWatches(onWatcherError);
    this.lifecycle = new SessionLifecycle(
      this.driver,
      {
        connectString: options.connectString,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
        logLevel: DRIVER_LOG_LEVELS[options.driverLogLevel ?? 'off'],
        tls: options.tls,
        maxFrameBytes: options.maxFrameBytes,
      },
      {
        prepareSession: (session) =>
          prepareSession(session, this.auth, this.namespace, {
            acl: this.options.defaultAcl,
            inRequest: this.capabilities.createWithAcl,
          }),
        sessionLost: () => {
          const clientPathOf = (serverPath: string) => this.toClientPath(serverPath);
          this.watches.loseAll(clientPathOf);
          this.persistentWatches.loseAll(clientPathOf);
        },
        watchEvent: (type, serverPath) => {
          const clientPath = this.toClientPath(serverPath);
          this.watches.dispatch(type, serverPath, clientPath);
          this.persistentWatches.dispatch(type, serverPath, clientPath);
        },
      },
      this.logger,
    );
    this.executor = new RequestExecutor(
      this.lifecycle,
      new RetryPolicy(options.retry),
      this.logger,
    );
  }

  /** Creates a connection and waits for its first session (see `connectTimeoutMs`). */
  static async connect(options: ZookeeperOptions): Promise<ZookeeperConnection> {
    const connection = new ZookeeperConnection(options);
    await connection.connect();
    return connection;
  }

  /** Connects; fails with ConnectTimeoutError naming the ensemble when no server answers in time. */
  connect(): Promise<void> {
    return this.lifecycle.start(this.options.connectTimeoutMs ?? 15_000);
  }

  /** Connection states; replays the current state to new subscribers and completes after CLOSED. */
  get state$(): Observable<ConnectionState> {
    return this.lifecycle.state$;
  }

  get state(): ConnectionState {
    return this.lifecycle.state;
  }

  /** Resolves when the session is usable. */
  whenConnected(): Promise<void> {
    return this.lifecycle.whenConnected();
  }

  /** The current session's id and password (hex) and negotiated timeout. */
  get session(): SessionCredentials {
    return this.lifecycle.session().credentials;
  }

  /** What this connection's driver can do (after `connect()`); features ask, never the name. */
  get capabilities(): DriverCapabilities {
    return this.lifecycle.capabilities;
  }

  /** Watchers registered and not yet fired or removed, persistent ones included (leak checks). */
  get pendingWatchCount(): number {
    return this.watches.size + this.persistentWatches.size;
  }

  /**
   * Closes the session at once: its ephemeral nodes disappear now, not after the session timeout.
   * The state is CLOSED at once; resolves once the server answered (the ephemerals are gone), or
   * after the driver's close timeout (1 s on wire) when it does not.
   */
  async close(): Promise<void> {
    await this.lifecycle.close();
  }

  async create(
    path: string,
    data: Buffer | string = Buffer.alloc(0),
    options: CreateOptions = {},
  ): Promise<string> {
    const plan = planCreate(path, data, options, this.options.defaultAcl);
    checkNumber(`create '${path}'`, 'ttlMs', options.ttlMs, {
      integer: true,
      min: 1,
      ...(this.driver === 'native'
        ? { max: MAX_TIMER_MS, maxReason: 'the native driver sends it as a 32-bit integer' }
        : { max: MAX_TTL_MS, maxReason: "the server's limit" }),
    });
    const aclInRequest = this.capabilities.createWithAcl;
    const created = await this.execute(
      'create',
      path,
      plan.retryable,
      createAttempt(
        plan,
        aclInRequest,
        (p) => this.toServerPath(p),
        (p) => this.mkdirp(p),
      ),
    );
    const clientPath = this.toClientPath(created);
    // Without createWithAcl the node exists with the open ACL until this follow-up request.
    if (plan.acl && !aclInRequest) await this.restrict(clientPath, plan.acl);
    return clientPath;
  }

  /**
   * The follow-up `setAcl` of a create on a driver without create-with-ACL. When it fails, the open
   * node goes again (best effort; an ephemeral one also goes with the session): a lock or election
   * node nobody owns would hold up everyone queued behind it.
   */
  private async restrict(path: string, acl: readonly Acl[]): Promise<void> {
    try {
      await this.setAcl(path, acl);
    } catch (error) {
      await this.delete(path, { version: 0 }).catch(() => undefined);
      throw error;
    }
  }

  async get(path: string, options: WatchOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    validatePath(path, 'get');
    return this.watched('data', path, options.watch, 'get', (session, serverPath, watch) =>
      session.get(serverPath, watch),
    );
  }

  /** The node's stat, or undefined when it does not exist (a watch is set in both cases). */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | undefined> {
    validatePath(path, 'exists');
    const withdraw =
      options.watch && this.watches.add('data', this.toServerPath(path), options.watch);
    try {
      return await this.execute('exists', path, true, (session) =>
        session.exists(
          this.toServerPath(path),
          !!options.watch && this.watches.isPending('data', this.toServerPath(path), options.watch),
        ),
      );
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      withdraw?.();
      throw error;
    }
  }

  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    return (await this.getChildrenWithStat(path, options)).children;
  }

  async getChildrenWithStat(
    path: string,
    options: WatchOptions = {},
  ): Promise<{ children: string[]; stat: Stat }> {
    validatePath(path, 'getChildren');
    return this.watched(
      'children',
      path,
      options.watch,
      'getChildren',
      (session, serverPath, watch) => session.getChildren(serverPath, watch),
    );
  }

  /** Writes the node's data; with `version`, only if the node is still at that version (CAS). */
  async set(path: string, data: Buffer | string, options: VersionOptions = {}): Promise<Stat> {
    validatePath(path, 'set');
    checkVersion('set', 'version', options.version);
    const bytes = toBuffer(data);
    const version = options.version ?? -1;
    const serverPath = this.toServerPath(path);
    return this.execute('set', path, true, async (session, isRetry) => {
      try {
        return await session.set(serverPath, bytes, version);
      } catch (failure) {
        // After a lost reply, a BadVersion may be our own earlier write: check before failing.
        if (
          isRetry &&
          version >= 0 &&
          failure instanceof DriverFailure &&
          failure.rc === Code.BAD_VERSION
        ) {
          const current = await session.get(serverPath, false);
          if (current.stat.version === version + 1 && current.data.equals(bytes))
            return current.stat;
        }
        throw failure;
      }
    });
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    validatePath(path, 'delete');
    checkVersion('delete', 'version', options.version);
    if (path === '/') throw new InvalidOptionsError("the root node '/' cannot be deleted");
    if (options.recursive) {
      for (const child of await this.getChildren(path).catch(whenNoNode([]))) {
        await this.delete(joinPath(path, child), { recursive: true });
      }
    }
    const serverPath = this.toServerPath(path);
    await this.execute('delete', path, true, async (session, isRetry) => {
      try {
        await session.delete(serverPath, options.version ?? -1);
      } catch (failure) {
        // A NoNode on a retry means the first attempt deleted it before its reply was lost.
        if (!(isRetry && failure instanceof DriverFailure && failure.rc === Code.NO_NODE))
          throw failure;
      }
    });
  }

  /**
   * Creates the path and any missing parents as persistent nodes, each with `defaultAcl`; existing
   * nodes are kept. An existing node in a folder this session may not create in is kept too (the
   * server answers NoAuth before NodeExists there): a reader of a protected tree can mkdirp it.
   */
  async mkdirp(path: string): Promise<void> {
    validatePath(path, 'mkdirp');
    const segments = path.split('/').filter(Boolean);
    for (let depth = 1; depth <= segments.length; depth++) {
      const ancestor = `/${segments.slice(0, depth).join('/')}`;
      await this.create(ancestor).catch(async (error) => {
        if (error instanceof NodeExistsError) return;
        if (error instanceof NoAuthError && (await this.exists(ancestor))) return;
        throw error;
      });
    }
  }

  async getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    validatePath(path, 'getAcl');
    const serverPath = this.toServerPath(path);
    return this.execute('getAcl', path, true, (session) => session.getAcl(serverPath));
  }

  async setAcl(path: string, acl: readonly Acl[], options: VersionOptions = {}): Promise<void> {
    validatePath(path, 'setAcl');
    assertAcl(acl, path);
    checkVersion('setAcl', 'version', options.version);
    await this.execute('setAcl', path, true, (session) =>
      session.setAcl(this.toServerPath(path), acl, options.version ?? -1),
    );
  }

  /** Adds credentials to this session and to every later session of this connection. */
  async addAuth(scheme: string, credentials: string): Promise<void> {
    this.auth.push({ scheme, credentials });
    await this.execute('addAuth', undefined, true, (session) =>
      session.addAuth(scheme, credentials),
    );
  }

  /**
   * Applies every operation or none (a ZooKeeper multi), e.g. a write fenced by a check of the
   * leader's node. Needs the driver's `multi` (wire). Not retried after a connection loss: the
   * ConnectionLossError then leaves open whether it was applied (read to find out).
   */
  async multi(ops: readonly TransactionOp[]): Promise<TransactionResult[]> {
    const driverOps = toDriverOps(ops, (path) => this.toServerPath(path), this.options.defaultAcl);
    const results = await this.execute('multi', undefined, false, async (session) => {
      if (!session.multi) throw new CapabilityMissingError('multi', this.driver, 'multi');
      return session.multi(driverOps).catch((failure) => {
        throw failure instanceof MultiFailure ? transactionError(failure, ops) : failure;
      });
    });
    return results.map((result) =>
      result.type === 'create' ? { type: 'create', path: this.toClientPath(result.path) } : result,
    );
  }

  /** A builder of one `multi`: `zk.transaction().check(p, 3).set(q, data).commit()`. */
  transaction(): Transaction {
    return new Transaction((ops) => this.multi(ops));
  }

  /**
   * A persistent watch: `watcher` gets every event on `path` (with `recursive`: created, changed
   * and deleted events of it and of every node below it) until the returned function removes it,
   * with one server watch however many changes. Needs the driver's `persistentWatches` (wire).
   * Changes made while disconnected may be reported late or coalesced: read again on RECONNECTED.
   * When the session ends, the watcher gets SESSION_LOST once and is removed: add it again.
   */
  async addPersistentWatch(
    path: string,
    watcher: Watcher,
    options: { recursive?: boolean } = {},
  ): Promise<() => Promise<void>> {
    validatePath(path, 'addPersistentWatch');
    const operation = 'addPersistentWatch';
    if (!this.capabilities.persistentWatches)
      throw new CapabilityMissingError('persistentWatches', this.driver, operation);
    const serverPath = this.toServerPath(path);
    const mode = options.recursive
      ? PersistentWatchMode.PERSISTENT_RECURSIVE
      : PersistentWatchMode.PERSISTENT;
    const registration = await this.persistentWatches.add(serverPath, mode, watcher, () =>
      this.execute(operation, path, true, (session) => session.addWatch!(serverPath, mode)),
    );
    return async () => {
      const { wasLast, otherModeInUse } = this.persistentWatches.remove(registration);
      if (!wasLast || this.lifecycle.isClosed) return;
      const removal = this.execute('removePersistentWatch', path, true, async (session) => {
        // The server removes both modes of the path at once: the other one is set again.
        await session.removePersistentWatch!(serverPath).catch(whenNoWatcher);
        if (otherModeInUse) await session.addWatch!(serverPath, otherMode(mode));
      });
      this.persistentWatches.removingWatches(serverPath, removal);
      await removal;
    };
  }

  /** Makes the server this client talks to catch up with the leader (before a read that must be fresh). */
  async sync(path = '/'): Promise<void> {
    validatePath(path, 'sync');
    await this.execute('sync', path, true, (session) => session.sync(this.toServerPath(path)));
  }

  /** The path as the server sees it (namespace prepended). */
  toServerPath(path: string): string {
    if (!this.namespace) return path;
    return path === '/' ? this.namespace : this.namespace + path;
  }

  private toClientPath(serverPath: string): string {
    if (!this.namespace || !serverPath.startsWith(this.namespace)) return serverPath;
    return serverPath.slice(this.namespace.length) || '/';
  }

  private async watched<T>(
    kind: WatchKind,
    path: string,
    watcher: Watcher | undefined,
    operation: string,
    request: (session: DriverSession, serverPath: string, watch: boolean) => Promise<T>,
  ): Promise<T> {
    const serverPath = this.toServerPath(path);
    // Registered before the request so an event racing with the reply is not missed.
    const withdraw = watcher && this.watches.add(kind, serverPath, watcher);
    try {
      // A retry after the session was lost must not set a watch nobody listens to any more.
      return await this.execute(operation, path, true, (session) =>
        request(
          session,
          serverPath,
          !!watcher && this.watches.isPending(kind, serverPath, watcher),
        ),
      );
    } catch (error) {
      withdraw?.();
      throw error;
    }
  }

  private execute<T>(
    operation: string,
    path: string | undefined,
    idempotent: boolean,
    attempt: Attempt<T>,
  ): Promise<T> {
    return this.executor.execute(operation, path, idempotent, attempt);
  }
}
