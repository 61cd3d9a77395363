/**
 * Runs an async check so that two runs never overlap: a request that arrives during a run asks
 * for exactly one more run after it, because the running one may have read the state before the
 * change that prompted the request. Requests made meanwhile are coalesced.
 */
export class SerialTask {
  private requested = false;
  private loop?: Promise<void>;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once a run that started after this call has finished. */
  schedule(): Promise<void> {
    this.requested = true;
    this.loop ??= this.drain();
    return this.loop;
  }

  private async drain(): Promise<void> {
    try {
      while (this.requested) {
        this.requested = false;
        try {
          await this.task();
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.loop = undefined;
    }
  }
}
