import { randomUUID } from 'node:crypto';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { Observable, Subject } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { CreateMode } from '../connection/create-mode.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ignoreNodeExists } from '../internal/no-node.js';
import { JsonSerializer, Serializer } from '../codec/serializers.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { BroadcastLog } from '../messaging/broadcast/broadcast-log.js';
import { LogRelay, RelaySource, TransactionFence } from '../messaging/broadcast/log-relay.js';
import { WorkQueue } from '../messaging/queue/work-queue.js';
import { ZookeeperMessaging } from '../messaging/zookeeper-messaging.js';
import { readPatternDeclaration } from './pattern-declarations.js';
import { reapDeadReplyFolders, removeReplyFolder, ReplyInbox } from './reply-channel.js';
import { Withdrawals } from './withdrawals.js';
import { openTransportConnection } from './transport-connection.js';
import {
  InvalidPacketError,
  RequestSessionLostError,
  RequestTimeoutError,
  TransportClosedError,
  TransportStateError,
} from './transport-errors.js';
import { RequestPacket } from './transport-packets.js';
import { TransportPaths } from './transport-paths.js';
import { TransportStatus } from './transport-status.js';
import { ZookeeperEvents, ZookeeperStatus } from './zookeeper.events.js';
import {
  ClientZookeeperOptions,
  checkTransportOptions,
  DEFAULT_TRANSPORT_ROOT,
} from './zookeeper-transport-options.interface.js';

/** Publishes write at once; batches still form under load (one write in flight at a time). */
const PUBLISHING = { lingerMs: 0 };

export interface TransportRelayOptions {
  /** Makes each relay step conditional: a LeaderElection (its own node is checked). */
  fence: TransactionFence;
  /** How the source's messages are serialized. Default JSON (a WorkQueue's default). */
  serializer?: Serializer;
  /** See RelayOptions.lingerMs. Default 0. */
  lingerMs?: number;
}

interface PendingRequest {
  pattern: string;
  callback: (packet: WritePacket) => void;
  timer: NodeJS.Timeout;
  /** A first reply arrived: a server took the request. */
  answered: boolean;
}

/**
 * A Nest ClientProxy over ZooKeeper. `emit(pattern, data)` appends the event to the pattern's work
 * queue (or broadcast log, for broadcast patterns) and completes once it is durable. `send` puts a
 * request in the pattern's request queue and streams the replies that a server writes into this
 * client's reply folder; its presence node is ephemeral, so a dead client's folder is reaped.
 *
 * Not guaranteed: a reply written after the client's session expired; such requests fail with
 * RequestSessionLostError. A request withdrawn (unsubscribed) after a server took it still runs.
 */
// Status is `string` in the base type so the class satisfies ClientsModule's `Type<ClientProxy>`
// (customClass); `status` below narrows it back to ZookeeperStatus.
export class ClientZookeeper extends ClientProxy<ZookeeperEvents> {
  private readonly clientId = `c${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  private readonly paths: TransportPaths;
  private readonly transportStatus: TransportStatus;
  private readonly pending = new Map<string, PendingRequest>();
  private messaging?: ZookeeperMessaging;
  private readonly broadcastPatterns = new Map<string, Promise<boolean>>();
  /**
   * Where each pattern's events go, once that is settled (declared in the options or by a
   * server): emit() then publishes without a lookup. A pattern no server declared yet is not here.
   */
  private readonly eventTargets = new Map<string, WorkQueue | BroadcastLog>();
  /** Patterns whose kind is settled: declared in the options or read from a server's declaration. */
  private readonly declared = new Set<string>();
  private readonly requestQueues = new Map<string, WorkQueue>();
  private connection?: ZookeeperConnection;
  private connecting?: Promise<ZookeeperConnection>;
  private ownsConnection = false;
  private inbox?: ReplyInbox;
  private closed = false;

  constructor(protected readonly options: ClientZookeeperOptions) {
    super();
    checkTransportOptions('ClientZookeeper', options);
    this.paths = new TransportPaths(options.root ?? DEFAULT_TRANSPORT_ROOT);
    this.transportStatus = new TransportStatus(this._status$);
    this.initializeSerializer(options);
    this.initializeDeserializer(options);
  }

  /** connected, reconnecting, session-lost or disconnected (see ZookeeperStatus). */
  override get status(): Observable<ZookeeperStatus> {
    return super.status as Observable<ZookeeperStatus>;
  }

  /** Opens (once) the connection, this client's presence node and its reply folder. */
  connect(): Promise<ZookeeperConnection> {
    if (this.closed) return Promise.reject(new TransportClosedError('ClientZookeeper'));
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    for (const [id, request] of this.pending) {
      this.settle(id, { err: new TransportClosedError('ClientZookeeper') } as WritePacket, request);
    }
    await this.inbox?.close();
    await this.messaging?.close();
    if (connection) {
      await removeReplyFolder(connection, this.paths.replyFolder(this.clientId)).catch(
        () => undefined,
      );
      await connection.delete(this.paths.client(this.clientId)).catch(() => undefined);
      if (this.ownsConnection) await connection.close();
    }
    this.transportStatus.stop();
  }

  override on<K extends keyof ZookeeperEvents>(event: K, callback: ZookeeperEvents[K]): void {
    this.transportStatus.on(event, callback);
  }

  /** The ZooKeeper connection the client uses (after connect()). */
  unwrap<T = ZookeeperConnection>(): T {
    if (!this.connection)
      throw new TransportStateError('ClientZookeeper is not connected yet: call connect() first');
    return this.connection as T;
  }

  /**
   * Relays a work queue into a broadcast pattern's log: each message of `source` becomes the event
   * `emit(pattern, message)` would store, but whole queue batches become whole log batches, and
   * each step is one fenced transaction that also deletes what it relayed, so every message is
   * in the log exactly once, and a holder of `fence` that lost it (a deposed leader) appends
   * nothing. The relay must be the queue's only consumer; `source` must be on this client's
   * connection. Needs transactions (wire driver): CapabilityMissingError otherwise, where
   * consuming the queue and `emit`ting each message is the (at-least-once) alternative.
   */
  async relay(
    pattern: string,
    source: RelaySource,
    options: TransportRelayOptions,
  ): Promise<LogRelay> {
    await this.connect();
    const name = this.normalizePattern(pattern);
    if (!(await this.isBroadcast(name)))
      throw new InvalidOptionsError(`relay needs a broadcast pattern; '${name}' is not one`);
    const serializer = options.serializer ?? new JsonSerializer();
    return this.log(this.paths.broadcastLog(name)).relay(source, {
      fence: options.fence,
      lingerMs: options.lingerMs,
      map: (payload) => this.eventPacket({ pattern: name, data: serializer.deserialize(payload) }),
    });
  }

  /**
   * Nest's `emit`, without its per-call Observable chain (defer, mergeMap, a connectable and its
   * Subject: a third of the client's CPU per event): the event is published whether or not anyone
   * subscribes, after connect(); subscribers get the dispatch result and completion, or the error,
   * and a late subscriber gets the completion or the error. The packet still goes through
   * `createPacket`, so a dispatch hook (`setOnDispatchHook`) sets its metadata. A nil pattern or
   * data is refused by Nest's own emit.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ClientProxy's signature
  override emit<TResult = any, TInput = any>(pattern: any, data: TInput): Observable<TResult> {
    if (pattern === undefined || pattern === null || data === undefined || data === null) {
      return super.emit(pattern, data);
    }
    const outcome = new Subject<TResult>();
    this.connect()
      .then(() => this.dispatchEvent<TResult>(this.createPacket(pattern, data)))
      .then(
        (result) => {
          outcome.next(result);
          outcome.complete();
        },
        (error: unknown) => outcome.error(error),
      );
    return outcome.asObservable();
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    // First: a pattern that names no znode throws before anything is pending.
    const queue = this.requestQueue(pattern);
    const { id } = this.assignPacketId(packet);
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    const request: PendingRequest = {
      pattern,
      callback,
      answered: false,
      timer: setTimeout(
        () => this.settle(id, { err: new RequestTimeoutError(pattern, timeoutMs) } as WritePacket),
        timeoutMs,
      ),
    };
    this.pending.set(id, request);
    const stored: RequestPacket = {
      ...(this.serializer.serialize({ ...packet, pattern }) as ReadPacket & { id: string }),
      pattern,
      id,
      replyTo: this.clientId,
      deadline: Date.now() + timeoutMs,
    };
    queue.publish(stored).catch((error: unknown) => this.settle(id, { err: error } as WritePacket));
    return () => {
      const open = this.pending.get(id);
      if (!open) return;
      this.pending.delete(id);
      clearTimeout(open.timer);
      if (!open.answered && this.connection)
        Withdrawals.mark(this.connection, this.paths, this.clientId, id, timeoutMs);
    };
  }

  /** Publishes the event; a failure (a serializer's too) rejects, never throws. */
  protected dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    try {
      const pattern = this.normalizePattern(packet.pattern);
      const stored = this.eventPacket({ ...packet, pattern });
      const target = this.eventTargets.get(pattern);
      const published: Promise<unknown> = target
        ? target.publish(stored)
        : this.eventTarget(pattern).then((found): Promise<unknown> => found.publish(stored));
      return published.then(() => undefined as T);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Where `pattern`'s events go: the pattern's broadcast log or its work queue. */
  private async eventTarget(pattern: string): Promise<WorkQueue | BroadcastLog> {
    const broadcast = await this.isBroadcast(pattern);
    const target = broadcast
      ? this.log(this.paths.broadcastLog(pattern))
      : this.queue(this.paths.eventQueue(pattern));
    // Remembered once settled; a pattern no server declared yet is asked again at the next emit.
    if (this.declared.has(pattern)) this.eventTargets.set(pattern, target);
    return target;
  }

  /** An event as queues and logs store it: Nest's packet through the client's serializer. */
  private eventPacket(packet: ReadPacket & { pattern: string }): unknown {
    return { ...this.serializer.serialize(packet), pattern: packet.pattern };
  }

  private async open(): Promise<ZookeeperConnection> {
    const { connection, owned } = await openTransportConnection(this.options, 'ClientZookeeper');
    this.connection = connection;
    this.ownsConnection = owned;
    this.messaging = new ZookeeperMessaging(connection);
    await connection.mkdirp(this.paths.replyFolder(this.clientId));
    await this.announce(connection);
    this.inbox = new ReplyInbox(
      connection,
      this.paths.replyFolder(this.clientId),
      (reply) => this.onReply(reply),
      (error) => this.transportStatus.error(error as Error),
    );
    this.inbox.start();
    this.transportStatus.follow(connection, (state) => this.onState(connection, state));
    void reapDeadReplyFolders(connection, this.paths).catch((error: unknown) =>
      this.transportStatus.error(error as Error),
    );
    return connection;
  }

  /** The presence node: ephemeral, so it says whether this client's session is alive. */
  private announce(connection: ZookeeperConnection): Promise<void> {
    return connection
      .create(this.paths.client(this.clientId), '', {
        mode: CreateMode.EPHEMERAL,
        createParents: true,
      })
      .then(() => undefined, ignoreNodeExists);
  }

  private onState(connection: ZookeeperConnection, state: ConnectionState): void {
    if (state === ConnectionState.EXPIRED) {
      // Replies to these requests may have been reaped with the dead session's presence.
      for (const [id, request] of this.pending) {
        this.settle(
          id,
          { err: new RequestSessionLostError(request.pattern) } as WritePacket,
          request,
        );
      }
    }
    if (state === ConnectionState.CONNECTED && !this.closed) {
      void this.announce(connection).catch((error: unknown) =>
        this.transportStatus.error(error as Error),
      );
    }
  }

  private onReply(bytes: Buffer): void {
    let reply: WritePacket & { id?: string };
    try {
      reply = this.deserializer.deserialize(JSON.parse(bytes.toString('utf8'))) as WritePacket & {
        id?: string;
      };
    } catch (error) {
      this.transportStatus.error(
        new InvalidPacketError(`a reply that is not JSON (${(error as Error).message})`),
      );
      return;
    }
    const request = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!request) return; // Withdrawn, timed out, or a duplicate: nobody waits for it.
    request.answered = true;
    if (reply.isDisposed || reply.err !== undefined) {
      this.settle(reply.id!, reply, request);
    } else {
      request.callback(reply);
    }
  }

  private settle(id: string, packet: WritePacket, request = this.pending.get(id)): void {
    if (!request) return;
    this.pending.delete(id);
    clearTimeout(request.timer);
    request.callback(packet);
  }

  /**
   * Whether `pattern` is a broadcast pattern: the client's own `patterns` setting, else what a
   * server declared (read once). A pattern no server declared yet counts as a queue pattern and
   * is asked again at the next emit.
   */
  private isBroadcast(pattern: string): Promise<boolean> {
    const declared = this.options.patterns?.[pattern]?.broadcast;
    if (declared !== undefined) {
      this.declared.add(pattern);
      return Promise.resolve(declared);
    }
    let known = this.broadcastPatterns.get(pattern);
    if (!known) {
      known = readPatternDeclaration(this.connection!, this.paths, pattern).then(
        (broadcast) => {
          if (broadcast === undefined) this.broadcastPatterns.delete(pattern);
          else this.declared.add(pattern);
          return broadcast ?? false;
        },
        (error: unknown) => {
          // Undeclared, or not what a server writes: asked again at the next emit.
          this.broadcastPatterns.delete(pattern);
          throw error;
        },
      );
      this.broadcastPatterns.set(pattern, known);
    }
    return known;
  }

  private queue(path: string): WorkQueue {
    return this.messaging!.queue(path, PUBLISHING);
  }

  /** A pattern's request queue, looked up once (not its path and registry entry per request). */
  private requestQueue(pattern: string): WorkQueue {
    let queue = this.requestQueues.get(pattern);
    if (!queue) {
      queue = this.queue(this.paths.requestQueue(pattern));
      this.requestQueues.set(pattern, queue);
    }
    return queue;
  }

  private log(path: string): BroadcastLog {
    return this.messaging!.broadcast(path, PUBLISHING);
  }
}
