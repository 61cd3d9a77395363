/** How idempotent operations are retried after a connection loss. */
export interface RetryPolicyOptions {
  /** Attempts after the first one (default 10). */
  maxRetries?: number;
  /** First backoff delay (default 100 ms); doubled on each retry, with jitter. */
  baseDelayMs?: number;
  /** Cap of one backoff delay (default 2000 ms). */
  maxDelayMs?: number;
  /** No retry starts after this much time since the first attempt (default 30000 ms). */
  deadlineMs?: number;
}

/** Bounded exponential backoff with jitter, in the spirit of Curator's BoundedExponentialBackoffRetry. */
export class RetryPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly deadlineMs: number;

  constructor(options: RetryPolicyOptions = {}) {
    this.maxRetries = options.maxRetries ?? 10;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.deadlineMs = options.deadlineMs ?? 30_000;
  }

  /**
   * The delay before retry number `retry` (0-based), or undefined when no retry is allowed any
   * more. `elapsedMs` is the time since the first attempt.
   */
  delayBeforeRetry(
    retry: number,
    elapsedMs: number,
    random: () => number = Math.random,
  ): number | undefined {
    if (retry >= this.maxRetries) return undefined;
    const exponential = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    // Jitter spreads the retries of many clients that lost the same server at the same moment.
    const delay = Math.round(exponential / 2 + (random() * exponential) / 2);
    if (elapsedMs + delay > this.deadlineMs) return undefined;
    return delay;
  }
}
