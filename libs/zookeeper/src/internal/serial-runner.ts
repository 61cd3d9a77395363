interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Runs an idempotent "make it so" pass so that two passes never overlap. A request that arrives
 * while a pass runs is served by the next pass, because the running one may have read the state
 * before the change that prompted the request; requests made meanwhile are coalesced, so a burst
 * of watch events costs one extra pass.
 */
export class SerialRunner {
  private waiting: Waiter[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly pass: () => Promise<void>,
    /** Every failed pass, whether or not somebody awaits it. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Resolves or rejects with the outcome of the next pass to start (one that saw this request). */
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

  /** True while a pass runs or is due. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves once no pass is running or due. */
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
