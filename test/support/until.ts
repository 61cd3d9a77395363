import { filter, firstValueFrom, Observable, throwError, timeout } from 'rxjs';

export interface UntilOptions {
  /** Fails after this long. Default 30 s. */
  timeoutMs?: number;
  /** Names what was awaited, in the failure (a function: called at the failure, to show state). */
  message: string | (() => string);
  /** Pause between checks. Default 10 ms. */
  pollMs?: number;
}

/**
 * Checks `predicate` until it holds; rejects after `timeoutMs` with `message`. For state that no
 * event announces (another process's znodes, a server's counters); where an event exists, await it
 * (see `firstMatch`).
 */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, message, pollMs = 10 }: UntilOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms: ${describe(message)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * The first value `source` emits from now on that satisfies `matches`; rejects after `timeoutMs`
 * with `message` (or when `source` ends first). Subscribe before causing the event.
 */
export function firstMatch<T, S extends T = T>(
  source: Observable<T>,
  matches: ((value: T) => value is S) | ((value: T) => boolean),
  { timeoutMs = 30_000, message }: Omit<UntilOptions, 'pollMs'>,
): Promise<S> {
  return firstValueFrom(
    source.pipe(
      filter(matches as (value: T) => value is S),
      timeout({
        first: timeoutMs,
        with: () =>
          throwError(() => new Error(`timed out after ${timeoutMs} ms: ${describe(message)}`)),
      }),
    ),
  );
}

function describe(message: UntilOptions['message']): string {
  return typeof message === 'function' ? message() : message;
}
