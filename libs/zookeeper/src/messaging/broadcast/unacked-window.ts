/**
 * The deliveries a subscription handed out and that are not acked yet, in offset order (acks are
 * cumulative), bounded by `max`: a full window makes the reader wait, so a slow asynchronous
 * handler never makes a subscription buffer the whole backlog.
 */
export class UnackedWindow {
  /** Offsets not acked yet, from `head` on (the array is trimmed now and then, not per ack). */
  private offsets: number[] = [];
  private head = 0;
  /** Wakes a reader waiting for room (or for the stop). */
  private wake?: () => void;

  constructor(readonly max: number) {}

  get size(): number {
    return this.offsets.length - this.head;
  }

  add(offset: number): void {
    this.offsets.push(offset);
  }

  /** Drops every offset up to `offset`; wakes a waiting reader once there is room. */
  ackThrough(offset: number): void {
    while (this.head < this.offsets.length && this.offsets[this.head] <= offset) this.head++;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.head = 0;
    }
    if (this.size < this.max) this.wake?.();
  }

  /** Resolves once the window has room, or `stopped()` says to give up. */
  async room(stopped: () => boolean): Promise<void> {
    while (this.size >= this.max && !stopped()) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Wakes a waiting reader (to see that it stopped). */
  release(): void {
    this.wake?.();
  }
}
