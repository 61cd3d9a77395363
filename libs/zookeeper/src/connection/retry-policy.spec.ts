import { describe, expect, it } from '@jest/globals';
import { RetryPolicy } from './retry-policy.js';

describe('RetryPolicy', () => {
  it('backs off exponentially with jitter, capped at maxDelayMs', () => {
    const policy = new RetryPolicy({
      baseDelayMs: 100,
      maxDelayMs: 1000,
      maxRetries: 10,
      deadlineMs: 60_000,
    });
    const lowest = [0, 1, 2, 3, 4, 5].map((retry) => policy.delayBeforeRetry(retry, 0, () => 0));
    const highest = [0, 1, 2, 3, 4, 5].map((retry) => policy.delayBeforeRetry(retry, 0, () => 1));
    expect(lowest).toEqual([50, 100, 200, 400, 500, 500]);
    expect(highest).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('stops after maxRetries and before the deadline', () => {
    const policy = new RetryPolicy({ baseDelayMs: 100, maxRetries: 3, deadlineMs: 1000 });
    expect(policy.delayBeforeRetry(3, 0)).toBeUndefined();
    expect(policy.delayBeforeRetry(0, 950, () => 1)).toBeUndefined();
    expect(policy.delayBeforeRetry(0, 800, () => 1)).toBe(100);
  });
});
