import { filter, Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import {
  JoinedNode,
  predecessorRule,
  SequentialQueue,
} from '../../recipes/lock-internals/sequential-queue.js';

const MARKER = 'waiter-';
const RETRY_DELAY_MS = 500;

/**
 * The line of idle consumers of one work queue, under `<queue>/waiters/` (the lock recipe's
 * queue of ephemeral sequential nodes, protected names). A consumer with a free slot joins at the
 * end; only the head of the line (lowest sequence) watches the item list, the others each hold a
 * one-shot watch on their predecessor's node only. A head with no free slot left leaves, which
 * wakes exactly the next waiter; a consumer that frees a slot joins again at the end. A head that
 * took an item and still has a free slot passes its turn (goes to the end) when others wait, so
 * items go round the idle consumers instead of all to the same one.
 *
 * Guaranteed:
 * - No herd: a new item, or a finished one, wakes the head only; a departure from the line wakes
 *   one waiter (its successor). Joining wakes nobody. No polling.
 * - Progress: the head is always the oldest live node. A head whose session expires loses its
 *   node, so its successor takes over; it joins again (at the end) once its new session is
 *   CONNECTED. Connection loss alone changes nothing: the node and the one-shot watches live on
 *   with the session.
 *
 * Not guaranteed:
 * - Prompt takeover from a dead consumer. One that dies without stopping (SIGKILL, a frozen
 *   process, a partition) keeps its node until its session times out, and the consumers behind
 *   it, hence new items, wait that long (items already taken go on).
 * - Exactly one head. A head cut off by a partition still believes it is the head until it hears
 *   of its expiry, while the server has already made its successor the head. Both may then list
 *   the items; the item locks (ephemeral, by create) still let only one of them take an item, so
 *   the cost is a duplicate listing, never a duplicate delivery.
 */
export class ConsumerLine {
  private readonly queue: SequentialQueue;
  private readonly links: Subscription[] = [];
  private node?: JoinedNode;
  private wanted = false;
  private passing = false;
  private head = false;
  private generation = 0;
  private running = false;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly connection: ZookeeperConnection,
    path: string,
    /** Called whenever this consumer becomes the head of the line, or stops being it. */
    private readonly onTurn: (isHead: boolean) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.queue = new SequentialQueue(connection, path, [MARKER]);
  }

  get isHead(): boolean {
    return this.head;
  }

  start(): void {
    const { state$ } = this.connection;
    this.links.push(
      // The node went with the old session: we are out of the line, and no longer its head.
      state$.pipe(filter((s) => s === ConnectionState.EXPIRED)).subscribe(() => {
        this.node = undefined;
        this.generation++;
        this.setHead(false);
      }),
      state$.pipe(filter((s) => s === ConnectionState.CONNECTED)).subscribe(() => this.kick()),
    );
  }

  /** Gets in line (at the end) unless already in it. */
  join(): void {
    if (this.closed || this.wanted) return;
    this.wanted = true;
    this.kick();
  }

  /** Leaves the line; the next waiter, if any, becomes the head. */
  leave(): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.setHead(false);
    this.kick();
  }

  /**
   * The head gives way: when someone waits behind it, it goes to the end of the line (so items
   * spread round-robin over the idle consumers instead of all going to one of them).
   */
  passTurn(): void {
    if (!this.head || !this.wanted) return;
    this.passing = true;
    this.kick();
  }

  /** Leaves the line for good and waits until the node is deleted. */
  async close(): Promise<void> {
    this.closed = true;
    for (const link of this.links) link.unsubscribe();
    this.leave();
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 10));
    const node = this.node;
    this.node = undefined;
    if (node) await this.queue.leave(node).catch(() => undefined);
  }

  private setHead(isHead: boolean): void {
    if (this.head === isHead) return;
    this.head = isHead;
    this.onTurn(isHead);
  }

  /** Brings the node in line with `wanted`, one pass at a time. */
  private kick(): void {
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.converge()
      .catch((error: unknown) => {
        this.onError(error);
        setTimeout(() => this.kick(), RETRY_DELAY_MS);
      })
      .finally(() => {
        this.running = false;
        if (this.dirty) this.kick();
      });
  }

  private async converge(): Promise<void> {
    do {
      this.dirty = false;
      if (!this.wanted) {
        const node = this.node;
        this.node = undefined;
        this.generation++;
        this.passing = false;
        if (node) await this.queue.leave(node);
        continue;
      }
      if (this.passing && this.node) {
        this.passing = false;
        // One read of the line: alone in it, the head stays the head.
        if ((await this.queue.contenders()).length > 1) {
          const node = this.node;
          this.node = undefined;
          this.generation++;
          this.setHead(false);
          await this.queue.leave(node);
        }
      }
      if (!this.node) {
        // After an expiry, CONNECTED (the new session) kicks again.
        if (!isConnectedState(this.connection.state)) return;
        this.node = await this.queue.join(MARKER);
      }
      const generation = ++this.generation;
      const turn = await this.queue.inspect(this.node.path, predecessorRule, () => {
        // Our predecessor left (or its watch ended with our session): look again.
        if (generation === this.generation) this.kick();
      });
      if (generation !== this.generation) continue;
      if (turn.kind === 'missing') {
        // Deleted by hand, or gone with an expired session (then the EXPIRED handler ran first).
        this.node = undefined;
        this.setHead(false);
        this.dirty = isConnectedState(this.connection.state);
        continue;
      }
      this.setHead(turn.kind === 'first' && this.wanted);
    } while (this.dirty && !this.closed);
  }
}
