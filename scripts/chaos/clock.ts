/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC), the clock the apps stamp their
 * log lines with (` mono=<ms>`, apps/shared/src/monotonic.ts): one time axis for every process.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
