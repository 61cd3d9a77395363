import { filter, Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { nodeName } from '../../connection/paths.js';
import { JoinedNode, SequentialQueue } from '../../sequential/sequential-queue.js';
import { QueuedNode } from '../../sequential/sequence-order.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { whenNoNode } from '../../internal/no-node.js';
import { SerialRunner } from '../../internal/serial-runner.js';
import { settledWithin } from '../../internal/sleep.js';

const MARKER = 'waiter-';
const RETRY_DELAY_MS = 500;
const CLOSE_WAIT_MS = 2000;

/**
 * The line of idle consumers of one work queue, under `<queue>/waiters/` (the lock recipe's
 * queue of ephemeral sequential nodes, protected names). A consumer with a free slot joins at the
 * end. The first `front` consumers of the line (default 2) are active: they watch the item list
 * and take items. Every other one holds a one-shot watch on the `front` nodes just ahead of it
 * only, and becomes active when one of them leaves and its place is within the front. An active
 * consumer with no free slot left leaves the line when others wait behind the front (so one of
 * them moves in), and stays otherwise: a lone consumer, or a front with nobody behind it, costs no
 * write per item; one that took an item and still has a free slot goes to the end when others
 * wait, so items go round the idle consumers; a consumer that left joins again at the end once it
 * has a free slot and no backlog it knows of (see QueueConsumer). Whether anybody waits is read
 * once and then followed with a children watch on the line: while nobody waits, an item costs no
 * read of the line either.
 *
 * Why a front of two and not one head: a consumer that dies without stopping (SIGKILL, a frozen
 * process, a partition) keeps its node until its session times out. A dead head alone would hold
 * up every new item that long; with a front of two, the other active consumer goes on.
 *
 * Guaranteed:
 * - No herd: a new item, or a finished one, wakes the `front` active consumers only, however many
 *   wait; a departure from the line wakes at most `front` waiters (those just behind it). Joining
 *   wakes at most the `front` active consumers, and only those that saw nobody waiting (a watch
 *   event, no read). No polling.
 * - Progress: the active consumers are the oldest live nodes. A node whose session expires is
 *   deleted by the server, which moves the line on; its consumer joins again (at the end) once its
 *   new session is CONNECTED. Connection loss alone changes nothing: the node and the one-shot
 *   watches live on with the session.
 *
 * Not guaranteed:
 * - Prompt takeover from dead consumers: when all `front` active consumers die without stopping,
 *   new items wait until one of their sessions times out (items already taken go on, and busy
 *   consumers take the backlog after each item they finish, see QueueConsumer).
 * - Exactly `front` active consumers. One cut off by a partition still believes it is active
 *   until it hears of its expiry, while the server has already moved the line on. More consumers
 *   then list the items; the item locks (ephemeral, by create) still give each item to one of
 *   them, so the cost is extra listings, never a duplicate delivery.
 */
export class ConsumerLine {
  private readonly queue: SequentialQueue;
  private readonly links: Subscription[] = [];
  private node?: JoinedNode;
  private wanted = false;
  private passing = false;
  /** With `passing`: leave the line rather than go to its end (no free slot). */
  private leaving = false;
  private active = false;
  private generation = 0;
  private closed = false;
  /**
   * The last look at the line found nobody behind the front, and the children watch set with it
   * has not fired since: a pass would leave everything as it is, so none is made.
   */
  private nobodyWaits = false;
  /** A children watch on the line is set (at most one at a time). */
  private lineWatched = false;
  /** How many times that watch fired: a look is trusted only if it did not fire meanwhile. */
  private lineChanges = 0;
  private readonly passes = new SerialRunner(
    () => this.converge(),
    (error) => {
      this.onError(error);
      setTimeout(() => this.kick(), RETRY_DELAY_MS);
    },
  );

  constructor(
    private readonly connection: ZookeeperConnection,
    path: string,
    /** Called whenever this consumer becomes active (in the front of the line), or stops being. */
    private readonly onTurn: (isActive: boolean) => void,
    private readonly onError: (error: unknown) => void,
    /** How many consumers at the front of the line watch the items. */
    private readonly front = 2,
  ) {
    this.queue = new SequentialQueue(connection, path, [MARKER]);
  }

  get isActive(): boolean {
    return this.active;
  }

  start(): void {
    const { state$ } = this.connection;
    this.links.push(
      // The node went with the old session: we are out of the line, and no longer active.
      state$.pipe(filter((s) => s === ConnectionState.EXPIRED)).subscribe(() => {
        this.node = undefined;
        this.nobodyWaits = false;
        // The watch went with the session (its SESSION_LOST says so too; this is a backstop).
        this.lineWatched = false;
        this.generation++;
        this.setActive(false);
      }),
      state$.pipe(filter((s) => s === ConnectionState.CONNECTED)).subscribe(() => this.kick()),
    );
  }

  /** Gets in line (at the end) unless already in it. */
  join(): void {
    this.leaving = false;
    if (this.closed || this.wanted) return;
    this.wanted = true;
    this.kick();
  }

  /** Leaves the line; the next waiter, if any, moves into the front. */
  leave(): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.setActive(false);
    this.kick();
  }

  /**
   * An active consumer gives way: when someone waits behind the front, it goes to the end of the
   * line (so items spread round-robin over the idle consumers instead of going to the same ones).
   */
  passTurn(): void {
    if (!this.active || !this.wanted || this.nobodyWaits) return;
    this.passing = true;
    this.kick();
  }

  /**
   * An active consumer with no free slot: leaves the line when someone waits behind the front, so
   * that a waiter moves in and takes new items; else stays (one read, no write). Cancelled by a
   * `join()` before it is carried out (a slot freed meanwhile).
   */
  makeRoom(): void {
    if (!this.active || !this.wanted || this.nobodyWaits) return;
    this.passing = true;
    this.leaving = true;
    this.kick();
  }

  /**
   * Leaves the line for good: waits until the node is deleted, or at most CLOSE_WAIT_MS while the
   * server is unreachable (an app shutting down must not hang on it; the node then goes with the
   * session, which the owner of the connection closes or the server expires).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const link of this.links) link.unsubscribe();
    this.leave();
    await settledWithin(this.passes.idle(), CLOSE_WAIT_MS);
    const node = this.node;
    if (this.passes.busy || !node) return;
    this.node = undefined;
    await this.queue.leave(node).catch(() => undefined);
  }

  private setActive(isActive: boolean): void {
    if (this.active === isActive) return;
    this.active = isActive;
    this.onTurn(isActive);
  }

  /** Brings the node in line with `wanted`, one pass at a time. */
  private kick(): void {
    this.passes.kick();
  }

  private async converge(): Promise<void> {
    if (!this.wanted) {
      const node = this.node;
      this.node = undefined;
      this.nobodyWaits = false;
      this.generation++;
      this.passing = false;
      this.leaving = false;
      if (node) await this.queue.leave(node);
      return;
    }
    // The line as just read for a pass: where we stand is judged from it, not from a second read.
    let line: QueuedNode[] | undefined;
    if (this.passing && this.node) {
      this.passing = false;
      const node = this.node;
      // One read of the line: with nobody waiting behind the front, it stays where it is.
      line = await this.lookAtLine(nodeName(node.path));
      if (this.node !== node) {
        // The node went with an expired session meanwhile (the read was retried on the new one):
        // the line says nothing of the node joined next, which it would call missing and drop
        // while it stays in line, a place in the front that nobody fills. Joined again below.
        line = undefined;
      } else if (line.length > this.front) {
        line = undefined;
        this.node = undefined;
        this.generation++;
        if (this.leaving) this.wanted = false;
        this.leaving = false;
        this.setActive(false);
        await this.queue.leave(node);
        if (!this.wanted) return;
      }
      this.leaving = false;
    }
    if (!this.node) {
      // After an expiry, CONNECTED (the new session) kicks again.
      if (!isConnectedState(this.connection.state)) return;
      this.node = await this.queue.join(MARKER);
    }
    const generation = ++this.generation;
    const turn = await this.inspect(
      this.node.path,
      () => {
        // A node just ahead changed or left (or its watch ended with our session): look again.
        if (generation === this.generation) this.kick();
      },
      line,
    );
    if (generation !== this.generation) return;
    if (turn === 'missing') {
      // Deleted by hand, or gone with an expired session (then the EXPIRED handler ran first).
      this.node = undefined;
      this.setActive(false);
      if (isConnectedState(this.connection.state)) this.kick();
      return;
    }
    this.setActive(turn === 'active' && this.wanted);
  }

  /**
   * The line, read with a children watch (unless one is set already) so that what it shows can be
   * trusted until the watch fires: with nobody behind the front, the next passes are skipped.
   */
  private async lookAtLine(ownName: string): Promise<QueuedNode[]> {
    const changes = this.lineChanges;
    const arming = !this.lineWatched;
    this.lineWatched = true;
    let line: QueuedNode[];
    try {
      line = await this.queue.contenders(
        arming
          ? () => {
              // Someone joined or left, or the session ended: look again at the next pass.
              this.lineChanges++;
              this.lineWatched = false;
              this.nobodyWaits = false;
            }
          : undefined,
      );
    } catch (error) {
      if (arming && this.lineChanges === changes) this.lineWatched = false;
      // The line's node is gone (removed by hand): no watch was set, and nobody is in line.
      if (error instanceof NoNodeError) return [];
      throw error;
    }
    this.nobodyWaits =
      this.lineWatched &&
      this.lineChanges === changes &&
      line.length <= this.front &&
      line.some(({ name }) => name === ownName);
    return line;
  }

  /**
   * Active within the first `front` places; else waiting, with a watch on each of the `front`
   * nodes just ahead. That is enough: a departure further ahead moves us up by one place, and
   * those same nodes are then again the `front` just ahead of us, with us still outside the front.
   */
  private async inspect(
    ownPath: string,
    onChange: () => void,
    /** The line as read a moment ago, if it was. */
    known?: QueuedNode[],
  ): Promise<'active' | 'waiting' | 'missing'> {
    const ownName = nodeName(ownPath);
    for (;;) {
      const nodes = known ?? (await this.queue.contenders());
      known = undefined;
      const own = nodes.findIndex((node) => node.name === ownName);
      if (own < 0) return 'missing';
      if (own < this.front) return 'active';
      // get() rather than exists(): on a node already gone it leaves no watch behind.
      const armed = await Promise.all(
        nodes
          .slice(own - this.front, own)
          .map((node) =>
            this.connection.get(node.path, { watch: onChange }).then(() => true, whenNoNode(false)),
          ),
      );
      if (armed.every(Boolean)) return 'waiting';
    }
  }
}
