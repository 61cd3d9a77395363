interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Runs an idempotent "make it so" pass one at a time. Requests that arrive while a pass runs are
 * served together by the next pass, so a burst of watch events costs one extra pass, and a
 * caller is only answered by a pass that started after its request (it saw the caller's change).
 */
export class CoalescingRunner {
  private waiting: Waiter[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Resolves or rejects with the outcome of the next pass to start. */
  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Requests a pass whose outcome nobody awaits (failures still reach `failed`). */
  kick(): void {
    this.run().catch(() => undefined);
  }

  /** Resolves once no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.pass();
        for (const waiter of batch) waiter.resolve();
      } catch (error) {
        this.failed(error);
        for (const waiter of batch) waiter.reject(error);
      }
    }
    this.running = undefined;
  }
}
