/**
 * Runs reads with at most `limit` in flight: enough to keep a session's pipeline full while
 * loading a large tree, without queueing tens of thousands of requests at once.
 */
export class ReadLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    // A finishing read hands its slot over directly, so `running` stays as it is.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await read();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
