import { ConnectionState } from '../connection/connection-state.enum.js';
import { CreateMode } from '../connection/create-mode.enum.js';
import { joinPath, nodeName, validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';
import { NoNodeError, SessionExpiredError } from '../errors/zookeeper-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { msUntil, settledWithin } from '../internal/sleep.js';
import { orderContenders, QueuedNode } from './sequence-order.js';

/**
 * Decides whose departure a contender waits for: undefined when it is its turn, else the node to
 * watch. Each contender watches one node only, so a departure wakes one waiter, not all of them.
 */
export type BlockerRule = (
  nodes: readonly QueuedNode[],
  ownIndex: number,
) => QueuedNode | undefined;

/** Exclusive locks and latches: the first node goes, everyone else waits for the one before it. */
export const predecessorRule: BlockerRule = (nodes, ownIndex) =>
  ownIndex > 0 ? nodes[ownIndex - 1] : undefined;

export type Turn =
  | { kind: 'first'; nodes: readonly QueuedNode[] }
  | { kind: 'waiting'; nodes: readonly QueuedNode[]; blocker: QueuedNode }
  /** Our node is gone: its session expired, or someone deleted it. */
  | { kind: 'missing'; nodes: readonly QueuedNode[] };

/** Our node and the session that owns it (an ephemeral node dies with exactly that session). */
export interface JoinedNode {
  path: string;
  sessionId: string;
}

/**
 * The queue behind the lock and election recipes: contenders create protected ephemeral
 * sequential nodes under one directory and take turns in sequence order.
 */
export class SequentialQueue {
  constructor(
    readonly connection: ZookeeperConnection,
    readonly basePath: string,
    readonly markers: readonly string[],
  ) {
    validatePath(basePath, 'recipe');
  }

  /**
   * Creates our node. Protected mode lets a create whose reply was lost be found instead of
   * repeated, which would leave an orphan ahead of us that blocks everyone until our session ends.
   */
  async join(marker: string, data: Buffer | string = Buffer.alloc(0)): Promise<JoinedNode> {
    const path = await this.connection.create(joinPath(this.basePath, marker), data, {
      mode: CreateMode.EPHEMERAL_SEQUENTIAL,
      createParents: true,
      protected: true,
    });
    // Read before any other I/O callback can run, so it is the session the reply came from.
    return { path, sessionId: this.connection.session.id };
  }

  /**
   * The nodes in sequence order. `watch`, when given, is set on the children of the queue node;
   * then a missing queue node is NoNodeError (no watch was set), not an empty queue.
   */
  async contenders(watch?: () => void): Promise<QueuedNode[]> {
    const children = watch
      ? await this.connection.getChildren(this.basePath, { watch: () => watch() })
      : await this.connection.getChildren(this.basePath).catch(whenNoNode([]));
    return orderContenders(this.basePath, children, this.markers);
  }

  /**
   * Where our node stands. When we must wait, `onChange` is called once the blocker changes or
   * goes, or the session is lost.
   */
  async inspect(ownPath: string, rule: BlockerRule, onChange: () => void): Promise<Turn> {
    const ownName = nodeName(ownPath);
    for (;;) {
      const nodes = await this.contenders();
      const ownIndex = nodes.findIndex((node) => node.name === ownName);
      if (ownIndex < 0) return { kind: 'missing', nodes };
      const blocker = rule(nodes, ownIndex);
      if (!blocker) return { kind: 'first', nodes };
      // A data watch through get() rather than exists(): on a node that is already gone, get()
      // fails and leaves no watch behind, while exists() would leave one waiting forever for a
      // re-creation that cannot happen (protected names are unique).
      const armed = await this.connection
        .get(blocker.path, { watch: () => onChange() })
        .then(() => true, whenNoNode(false));
      if (armed) return { kind: 'waiting', nodes, blocker };
    }
  }

  /**
   * Waits until `rule` finds no blocker ('first'), our node disappears ('missing') or the
   * deadline (epoch ms) passes ('timeout').
   */
  async waitForTurn(
    ownPath: string,
    rule: BlockerRule,
    deadline?: number,
  ): Promise<'first' | 'missing' | 'timeout'> {
    for (;;) {
      let wake!: () => void;
      const changed = new Promise<void>((resolve) => (wake = resolve));
      const turn = await this.inspect(ownPath, rule, () => wake());
      if (turn.kind !== 'waiting') return turn.kind;
      if (!(await settledWithin(changed, msUntil(deadline)))) return 'timeout';
    }
  }

  /**
   * Deletes our node. When the link is down that cannot be done now, yet a node left behind would
   * block every other contender for as long as the session lives; so the delete is repeated on
   * each reconnect of the same session, and given up only once the session (and with it the
   * node) is gone.
   */
  async leave(node: JoinedNode): Promise<void> {
    try {
      await this.connection.delete(node.path);
    } catch (error) {
      if (isNodeGone(error)) return;
      if (!(error instanceof ZookeeperError && error.isRetryable)) throw error;
      this.deleteOnReconnect(node);
    }
  }

  private deleteOnReconnect(node: JoinedNode): void {
    const subscription = this.connection.state$.subscribe((state) => {
      if (state !== ConnectionState.RECONNECTED && state !== ConnectionState.CONNECTED) return;
      queueMicrotask(() => subscription.unsubscribe());
      if (this.connection.session.id !== node.sessionId) return;
      void this.leave(node).catch(() => undefined);
    });
  }
}

/** True for failures after which our ephemeral node certainly no longer exists. */
export function isNodeGone(error: unknown): boolean {
  return (
    error instanceof NoNodeError ||
    error instanceof SessionExpiredError ||
    error instanceof ConnectionClosedError
  );
}
