/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, the same in every process of
 * the machine, unaffected by wall-clock changes), as ` mono=<ms>` at the end of a log line:
 * scripts/chaos.ts orders the apps' lines and its own faults on one time axis with it.
 */
export function mono(): string {
  return ` mono=${(Number(process.hrtime.bigint() / 1000n) / 1000).toFixed(3)}`;
}
