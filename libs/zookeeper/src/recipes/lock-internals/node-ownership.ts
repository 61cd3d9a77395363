import { Subscription } from 'rxjs';
import { ConnectionState, isConnectedState } from '../../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Stat, WatchEvent, WatchEventType } from '../../connection/zookeeper-types.js';
import { isNodeGone, JoinedNode } from '../../sequential/sequential-queue.js';

export type OwnershipLossReason = 'expired' | 'deleted' | 'closed';

export type OwnershipEvent =
  /** The link is down: the node may still exist, or the session may be expiring right now. */
  | { kind: 'suspended' }
  /** Back on the same session after `suspended`, and the node is still ours. */
  | { kind: 'confirmed' }
  /** The node is gone for good (reported once; nothing follows). */
  | { kind: 'lost'; reason: OwnershipLossReason };

/**
 * Follows an ephemeral node we hold (a lock node, a leader's candidate node) and says when holding
 * it can no longer be trusted. A holder must stop acting on `suspended` already: the server may
 * expire the session before the link comes back, and then another contender takes over while we
 * still could not hear about it. The node itself carries one data watch, so a node deleted by hand
 * is noticed too.
 */
export class NodeOwnership {
  private subscription?: Subscription;
  private suspended = false;
  private watchArmed = false;
  private ended = false;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly node: JoinedNode,
    private readonly listener: (event: OwnershipEvent) => void,
  ) {}

  get isSuspended(): boolean {
    return this.suspended;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  start(): void {
    let replayed = true;
    this.subscription = this.connection.state$.subscribe((state) => {
      // The replayed current state only matters when it is not a healthy one.
      if (!(replayed && isConnectedState(state))) this.onState(state);
    });
    replayed = false;
    if (!this.ended) void this.verify();
  }

  /** Stops reporting (the holder gave the node up itself). */
  stop(): void {
    this.ended = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private onState(state: ConnectionState): void {
    if (this.ended) return;
    switch (state) {
      case ConnectionState.SUSPENDED:
        if (this.suspended) return;
        this.suspended = true;
        this.listener({ kind: 'suspended' });
        return;
      case ConnectionState.RECONNECTED:
        if (this.suspended) void this.confirm();
        return;
      case ConnectionState.CONNECTED:
      case ConnectionState.EXPIRED:
        // CONNECTED after our start means a new session: ours, and our node, are gone.
        return this.lose('expired');
      case ConnectionState.CLOSED:
      case ConnectionState.AUTH_FAILED:
        return this.lose('closed');
    }
  }

  private async confirm(): Promise<void> {
    if (await this.verify()) {
      if (this.ended || !this.suspended || !isConnectedState(this.connection.state)) return;
      this.suspended = false;
      this.listener({ kind: 'confirmed' });
    }
  }

  /** Checks that the node is still ours, arming its watch unless one is pending already. */
  private async verify(): Promise<boolean> {
    try {
      const stat = await this.readOwnNode();
      if (this.ended) return false;
      if (!stat) {
        this.lose(this.lossReason());
        return false;
      }
      if (stat.ephemeralOwner !== this.node.sessionId) {
        this.lose('expired');
        return false;
      }
      return true;
    } catch (error) {
      // A read that failed on the link says nothing; the next RECONNECTED checks again.
      if (isNodeGone(error)) this.lose(this.lossReason());
      return false;
    }
  }

  private async readOwnNode(): Promise<Stat | undefined> {
    // The data watch, once set, survives reconnects of the session: only re-arm a fired one.
    if (this.watchArmed) return this.connection.exists(this.node.path);
    const { stat } = await this.connection.get(this.node.path, {
      watch: (event) => this.onNodeEvent(event),
    });
    this.watchArmed = true;
    return stat;
  }

  private onNodeEvent(event: WatchEvent): void {
    this.watchArmed = false;
    if (this.ended) return;
    if (event.type === WatchEventType.DELETED) return this.lose('deleted');
    if (event.type === WatchEventType.SESSION_LOST) return this.lose('expired');
    void this.verify();
  }

  private lossReason(): OwnershipLossReason {
    if (this.connection.state === ConnectionState.CLOSED) return 'closed';
    try {
      return this.connection.session.id === this.node.sessionId ? 'deleted' : 'expired';
    } catch {
      // Closed between the two reads: session() refuses once the connection is closed.
      return 'closed';
    }
  }

  private lose(reason: OwnershipLossReason): void {
    if (this.ended) return;
    this.stop();
    this.listener({ kind: 'lost', reason });
  }
}
