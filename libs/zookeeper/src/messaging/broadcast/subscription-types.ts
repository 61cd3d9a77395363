// What a broadcast subscriber is given and may ask for (BroadcastLog.subscribe).

/** One message as delivered to a subscriber. */
export interface BroadcastDelivery<T> {
  readonly offset: number;
  readonly message: T;
  /**
   * Marks this message and every earlier one of this subscription as processed (acks are
   * cumulative, in log order). Commits reach ZooKeeper in batches, every `commitIntervalMs`.
   */
  ack(): void;
}

export interface SubscribeOptions {
  /** Where a subscriber with no stored offset starts. Default 'earliest'. */
  from?: 'earliest' | 'latest';
  /**
   * true: a message counts as processed once the synchronous `next` handler returned.
   * Default false: call `ack()` (after asynchronous work, for instance).
   */
  autoAck?: boolean;
  /**
   * Deliveries handed out and not yet acked (acks are cumulative) at most: at this many the
   * subscription stops delivering and reading ahead until acks catch up. Default 1000
   * (DEFAULT_MAX_UNACKED); `Infinity`: no bound.
   */
  maxUnacked?: number;
}

/** The default `maxUnacked` of a broadcast subscription. */
export const DEFAULT_MAX_UNACKED = 1000;
