import { BaseRpcContext } from '@nestjs/microservices';
import { TransportStateError } from './transport-errors.js';

/** Where a message came from and how to settle it. */
export interface ZookeeperMessageInfo {
  pattern: string;
  /** The znode path of the queue item or log entry that carried the message. */
  path: string;
  /** Broadcast events: the message's offset in the log. */
  offset?: number;
  /** Queue events and requests: the message's index in its item. */
  index?: number;
  /** Queue events: 1 on the first run (runs of earlier consumers included); else 1. */
  attempt: number;
  /** The ZooKeeper session of the server that received it. */
  sessionId: string;
  /** What the client attached to the packet (e.g. trace context). */
  metadata?: Record<string, unknown>;
  /** Manual acknowledgement (patterns with `manualAck`); undefined otherwise. */
  ack?: () => void;
  nack?: (error?: unknown) => void;
}

type ZookeeperContextArgs = [ZookeeperMessageInfo];

/** The context of a message received over ZooKeeper, for `@Ctx()`. */
export class ZookeeperContext extends BaseRpcContext<ZookeeperContextArgs> {
  constructor(args: ZookeeperContextArgs) {
    super(args);
  }

  private get info(): ZookeeperMessageInfo {
    return this.args[0];
  }

  getPattern(): string {
    return this.info.pattern;
  }

  /** The znode path of the queue item or log entry that carried the message. */
  getPath(): string {
    return this.info.path;
  }

  /** Broadcast events: the message's offset in the log. */
  getOffset(): number | undefined {
    return this.info.offset;
  }

  /** Queue events and requests: the message's index in its item. */
  getIndex(): number | undefined {
    return this.info.index;
  }

  /** 1 on the first run of a queue event, counting runs of earlier consumers. */
  getAttempt(): number {
    return this.info.attempt;
  }

  getSessionId(): string {
    return this.info.sessionId;
  }

  /** What the client attached to the packet, if anything (e.g. trace context). */
  getMetadata(): Record<string, unknown> | undefined {
    return this.info.metadata;
  }

  /** Settles a `manualAck` event as handled. Throws for patterns without manualAck. */
  ack(): void {
    this.settler('ack').ack!();
  }

  /** Settles a `manualAck` event as failed (retried, then dead-lettered; a broadcast: not acked). */
  nack(error?: unknown): void {
    this.settler('nack').nack!(error);
  }

  private settler(what: string): ZookeeperMessageInfo {
    if (!this.info.ack || !this.info.nack) {
      throw new TransportStateError(
        `${what}() is for patterns declared with manualAck: '${this.info.pattern}' is settled by its handler's result`,
      );
    }
    return this.info;
  }
}
