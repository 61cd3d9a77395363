/**
 * "Something I read has changed": hand `watcher` to the reads of one round, then `wait` for the
 * first of their one-shot watches to fire (any event, including a lost session, means "read
 * again"). Each round takes a new signal, so a late event of an old round wakes nobody.
 */
export class ChangeSignal {
  private fired = false;
  private wake?: () => void;

  readonly watcher = (): void => {
    this.fired = true;
    this.wake?.();
  };

  /** True once a watch fired; false when `deadline` (epoch ms, undefined: none) passes first. */
  wait(deadline: number | undefined): Promise<boolean> {
    if (this.fired) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer =
        deadline === undefined
          ? undefined
          : setTimeout(() => resolve(this.fired), Math.max(0, deadline - Date.now()));
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

/** The epoch ms by which a wait of `timeoutMs` ends (undefined: wait forever). */
export function deadlineOf(timeoutMs: number | undefined): number | undefined {
  return timeoutMs === undefined ? undefined : Date.now() + Math.max(0, timeoutMs);
}
