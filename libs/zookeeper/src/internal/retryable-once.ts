/**
 * Runs a task once, on first need, and hands every later caller the same outcome; a failed run is
 * forgotten, so the next caller tries again (a folder that could not be created while the server
 * was unreachable is created by the next publish, not never).
 */
export class RetryableOnce {
  private outcome?: Promise<void>;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    this.outcome ??= this.task().catch((error: unknown) => {
      this.outcome = undefined;
      throw error;
    });
    return this.outcome;
  }
}
