import { Logger, LoggerService } from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, Observable, skip, Subscription } from 'rxjs';
import { isConnectedState } from '../../connection/connection-state.enum.js';
import { Transaction } from '../../connection/transaction.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { ConnectionClosedError, InvalidOptionsError } from '../../errors/library-errors.js';
import { AuthFailedError, InvalidAclError, NoAuthError } from '../../errors/zookeeper-errors.js';
import { NodeOwnership, OwnershipEvent } from '../lock-internals/node-ownership.js';
import { predecessorRule, SequentialQueue } from '../../sequential/sequential-queue.js';
import { whenNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { LeaderInfo, LeaderTracker } from './leader-tracker.js';
import { addFence, FencingToken, isDeposedError } from './leadership-fence.js';

/** The marker of Curator's LeaderLatch nodes: `_c_<uuid>-latch-0000000003`. */
export const LEADER_NODE_MARKER = 'latch-';

export interface LeaderElectionOptions {
  /** Stored in the candidate node (UTF-8), reported by `leader$`; Curator's LeaderLatch id. */
  participantId: string;
  logger?: LoggerService;
}

export interface ElectionParticipant extends LeaderInfo {
  isLeader: boolean;
}

const RETRY_DELAY_MS = 1000;

/**
 * At most one leader at a time among the candidates on this path, Curator's LeaderLatch included,
 * per session view: a leader's `isLeader$` emits `false` on SUSPENDED, before its session can
 * expire and a successor take over. Only a paused process (GC, SIGSTOP) can act as leader after a
 * successor took over, briefly, once it resumes: fence work at the resource when that matters.
 *
 * Layout, shared with Curator's LeaderLatch on the same path, which takes part as an equal: each
 * candidate creates a protected ephemeral sequential `latch-` node (`_c_<uuid>-latch-<seq>`)
 * holding its participant id, the lowest sequence number leads, and every other candidate watches
 * only the node just before its own, so a departure wakes one candidate (no herd).
 *
 * Guaranteed:
 * - A candidate leads only while its session is connected and its node is first. On SUSPENDED the
 *   leader emits `false` at once and stays out until RECONNECTED has confirmed its node still
 *   exists; the client suspends after two thirds of the session timeout without an answer, and
 *   the server expires a session only after the whole timeout, so a leader cut off from the
 *   ensemble steps down before its session can expire and a successor can take over.
 * - When a leader dies or is cut off, its node goes when the server expires the session, and the
 *   successor takes over within the session timeout (plus a round trip).
 * - After EXPIRED a candidate re-enters with a new node (at the back of the queue) on the next
 *   CONNECTED.
 *
 * - Fenced writes (wire driver): `fenced(tx)` / `transaction()` make a transaction conditional on
 *   our node still existing, so a deposed leader's write fails whole at the server, however long
 *   it was paused. `fencingToken` names the term (its `czxid` grows from leader to leader).
 *
 * Not guaranteed (partitions, pauses):
 * - Stepping down in time across a pause: a paused (not dead) leader process, e.g. a long GC or
 *   SIGSTOP, notices nothing while paused and may act briefly after resuming, after a successor
 *   took over; writes through `fenced()` are refused then, unfenced ones are not.
 * - Stepping down at once when its node is deleted by hand: the leader steps down once the
 *   deletion's watch event arrives.
 * - An up-to-date `leader$`: it is a view that lags the real order by one notification.
 */
export class LeaderElection {
  private readonly queue: SequentialQueue;
  private readonly tracker: LeaderTracker;
  private readonly leading = new BehaviorSubject<boolean>(false);
  private readonly checks = new SerialRunner(
    () => this.checkOnce(),
    (error) => this.retryLater(error),
  );
  private readonly logger: LoggerService;
  private phase: 'new' | 'started' | 'closed' = 'new';
  private candidate?: NodeOwnership;
  /** Facts of the candidate's node, read when it first led. */
  private token?: FencingToken;
  private stateSubscription?: Subscription;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    private readonly options: LeaderElectionOptions,
  ) {
    if (typeof options?.participantId !== 'string')
      throw new InvalidOptionsError(`a LeaderElection needs a participantId string (${path})`);
    this.logger = options.logger ?? new Logger(`LeaderElection:${path}`);
    this.queue = new SequentialQueue(connection, path, [LEADER_NODE_MARKER]);
    this.tracker = new LeaderTracker(this.queue, this.logger);
  }

  get participantId(): string {
    return this.options.participantId;
  }

  /** Whether this candidate leads; replays the current value, completes on close. */
  get isLeader$(): Observable<boolean> {
    return this.leading.pipe(distinctUntilChanged());
  }

  get isLeader(): boolean {
    return this.leading.value;
  }

  /** Who leads (any candidate, Curator's included); works without `start()` too. */
  get leader$(): Observable<LeaderInfo | undefined> {
    return this.tracker.leader$;
  }

  /** Our candidate node, while we have one. */
  get nodePath(): string | undefined {
    return this.candidate?.node.path;
  }

  /** This leadership term (our node and its facts) while we lead; undefined otherwise. */
  get fencingToken(): FencingToken | undefined {
    return this.leading.value ? this.token : undefined;
  }

  /**
   * Adds to `tx` a check of our election node, so it commits only while we still lead: a leader
   * deposed meanwhile (session expired, or paused past it) gets a TransactionFailedError whose
   * `failure` is a NoNodeError on our node, and nothing of `tx` is applied. Throws NotLeaderError
   * when not leading now, CapabilityMissingError on a driver without `multi` (native).
   */
  fenced(tx: Transaction): Transaction {
    return addFence(this.connection, this.path, this.fencingToken, tx);
  }

  /** A transaction of this connection that begins with the fence (see `fenced`). */
  transaction(): Transaction {
    return this.fenced(this.connection.transaction());
  }

  /** Whether `error` (from a fenced transaction) says we no longer lead. */
  isDeposed(error: unknown): boolean {
    return isDeposedError(error, this.path);
  }

  /** Enters the election; resolves once our node is placed (or at once if not connected yet). */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new InvalidOptionsError(`election ${this.path}: start() twice`);
    this.phase = 'started';
    // The replayed current state is handled by the run() below.
    this.stateSubscription = this.connection.state$.pipe(skip(1)).subscribe({
      next: (state) => {
        if (isConnectedState(state)) this.checks.kick();
      },
      complete: () =>
        void this.close().catch((error) =>
          this.logger.warn(`election ${this.path}: leaving on close failed: ${String(error)}`),
        ),
    });
    // A failed check is retried by retryLater; start() itself fails only on one no retry can fix.
    await this.checks.run().catch((error: unknown) => {
      if (isPermanent(error)) throw error;
    });
  }

  /** Gives up leadership (or our place) and queues again at the back with a new node. */
  async resign(): Promise<void> {
    const candidate = this.candidate;
    if (!candidate) return;
    // Stop leading before the node goes, so our successor never overlaps with us.
    this.dropCandidate();
    await this.queue.leave(candidate.node);
    if (this.phase === 'started') await this.checks.run().catch(() => undefined);
  }

  /** Leaves the election for good: deletes our node, completes `isLeader$` and `leader$`. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.retryTimer);
    this.stateSubscription?.unsubscribe();
    const candidate = this.candidate;
    this.dropCandidate();
    this.leading.complete();
    this.tracker.close();
    if (candidate) await this.queue.leave(candidate.node);
  }

  /** Every candidate in queue order with its participant id (Curator's getParticipants). */
  async participants(): Promise<ElectionParticipant[]> {
    const nodes = await this.queue.contenders();
    const read = await Promise.all(
      nodes.map((node) =>
        this.connection
          .get(node.path)
          .then(
            ({ data }) => ({ id: data.toString('utf8'), nodeName: node.name }),
            whenNoNode(undefined),
          ),
      ),
    );
    const present = read.filter((entry): entry is LeaderInfo => entry !== undefined);
    return present.map((entry, index) => ({ ...entry, isLeader: index === 0 }));
  }

  private async checkOnce(): Promise<void> {
    if (this.phase !== 'started' || !isConnectedState(this.connection.state)) return;
    if (!this.candidate) await this.enter();
    const candidate = this.candidate;
    if (!candidate || this.phase !== 'started') return;
    const turn = await this.queue.inspect(candidate.node.path, predecessorRule, () =>
      this.checks.kick(),
    );
    if (candidate !== this.candidate) return;
    if (turn.kind === 'missing') {
      this.dropCandidate();
      this.checks.kick();
      return;
    }
    const leads = turn.kind === 'first' && this.healthy(candidate);
    if (leads && !this.token && !(await this.readToken(candidate))) return;
    this.setLeader(leads && this.healthy(candidate));
    this.tracker.poke();
  }

  private healthy(candidate: NodeOwnership): boolean {
    return !candidate.isSuspended && isConnectedState(this.connection.state);
  }

  /** Reads our node's facts before we first lead; false when the candidate changed meanwhile. */
  private async readToken(candidate: NodeOwnership): Promise<boolean> {
    const { path, sessionId } = candidate.node;
    const stat = await this.connection.exists(path);
    if (candidate !== this.candidate) return false;
    if (!stat) {
      this.dropCandidate();
      this.checks.kick();
      return false;
    }
    this.token = { path, czxid: stat.czxid, version: stat.version, sessionId };
    return true;
  }

  private async enter(): Promise<void> {
    const node = await this.queue.join(LEADER_NODE_MARKER, this.options.participantId);
    if (this.phase !== 'started') return this.queue.leave(node);
    const ownership: NodeOwnership = new NodeOwnership(this.connection, node, (event) =>
      this.onOwnership(ownership, event),
    );
    this.candidate = ownership;
    ownership.start();
  }

  private onOwnership(ownership: NodeOwnership, event: OwnershipEvent): void {
    if (ownership !== this.candidate) return;
    if (event.kind === 'suspended') return this.setLeader(false);
    if (event.kind === 'lost') this.dropCandidate();
    // Confirmed: our node survived the outage; lost: enter again (once connected).
    this.checks.kick();
  }

  private dropCandidate(): void {
    this.candidate?.stop();
    this.candidate = undefined;
    this.token = undefined;
    this.setLeader(false);
  }

  private setLeader(value: boolean): void {
    // Never true once closed: a late callback must not revive a completed subject's value.
    if (value && this.phase !== 'started') return;
    if (this.leading.value !== value) this.leading.next(value);
  }

  private retryLater(error: unknown): void {
    if (this.phase !== 'started' || error instanceof ConnectionClosedError) return;
    if (isPermanent(error)) {
      // Retrying would fail the same way each second: wait for a new session instead (new
      // credentials may come with it), which kicks a check.
      this.logger.error(`election ${this.path}: ${String(error)}; not retried`);
      return;
    }
    this.logger.warn(`election ${this.path}: ${String(error)}; retrying in ${RETRY_DELAY_MS} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.checks.kick(), RETRY_DELAY_MS);
  }
}

/** The server refused the candidate node for its ACL or our credentials: a retry changes nothing. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof InvalidAclError ||
    error instanceof NoAuthError ||
    error instanceof AuthFailedError
  );
}
