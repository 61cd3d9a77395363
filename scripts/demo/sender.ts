import { setTimeout as sleep } from 'node:timers/promises';

export class SendFailedError extends Error {
  constructor(what: string, reason: string) {
    super(`could not send ${what}: ${reason}`);
    this.name = 'SendFailedError';
  }
}

/**
 * POSTs to the producers in turn, moving on to the next one when a producer is down (connection
 * refused, reset, 5xx) until one accepts with 202. A request whose answer was lost may have been
 * accepted anyway: sending it again can only duplicate it, which the tally counts; never lose it.
 */
export class Sender {
  private next = 0;

  constructor(private readonly producers: () => readonly string[]) {}

  async post(path: '/messages' | '/jobs', body: object, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no producer is listening';
    while (Date.now() < deadline) {
      const urls = this.producers();
      const url = urls[this.next++ % Math.max(1, urls.length)];
      if (url) {
        try {
          const response = await fetch(`${url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
          if (response.status === 202) return;
          const text = await response.text();
          if (response.status < 500) throw new SendFailedError(path, `${response.status} ${text}`);
          lastProblem = `${url} answered ${response.status}`;
        } catch (error) {
          if (error instanceof SendFailedError) throw error;
          lastProblem = `${url}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      await sleep(100);
    }
    throw new SendFailedError(path, `gave up after ${timeoutMs} ms (${lastProblem})`);
  }
}
