import { setTimeout as sleep } from 'node:timers/promises';
import { say, secs } from './output.js';

export interface StepResult {
  title: string;
  ok: boolean;
  ms: number;
}

/**
 * Runs the demo's steps: prints `… title`, then `✔ title: note` or `✘ title: why` with the time
 * taken, and keeps every result for the summary. A step also fails as soon as `aborted` rejects
 * (Ctrl-C), so an interrupted demo never waits for a step to finish.
 */
export class StepRunner {
  readonly results: StepResult[] = [];

  constructor(private readonly aborted: Promise<never>) {}

  /** Rejects with the step's failure, after reporting it. */
  async step(title: string, run: () => Promise<string | void>): Promise<void> {
    const started = Date.now();
    say(`  … ${title}`);
    try {
      const note = await Promise.race([run(), this.aborted]);
      this.results.push({ title, ok: true, ms: Date.now() - started });
      say(`  ✔ ${title}${note ? `: ${note}` : ''} (${secs(Date.now() - started)})`);
    } catch (error) {
      this.results.push({ title, ok: false, ms: Date.now() - started });
      say(`  ✘ ${title}: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
}

/** Polls `done` every 150 ms until it holds; rejects after `timeoutMs`, naming `what`. */
export async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (${secs(timeoutMs)})`);
    await sleep(150);
  }
}
