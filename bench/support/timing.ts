// Timing helpers shared by the bench sections: a pool of requests in flight, rates, percentiles,
// the order of alternating rounds and a forced gc between phases.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Requests in flight in the pipelined workloads. */
export const IN_FLIGHT = 64;

/** Runs `run(0..count-1)` with at most `inFlight` of them pending at once. */
export async function pool(
  count: number,
  run: (i: number) => Promise<unknown>,
  inFlight = IN_FLIGHT,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

/** `work`, or a failure naming `what` once it has taken longer than `ms`: a bench never hangs. */
export async function withDeadline<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
  let timer!: NodeJS.Timeout;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} did not finish in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Operations per second of `run`, which performs `count` of them. */
export async function rate(count: number, run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (count / (performance.now() - started)) * 1000;
}

/** Operations per second and the process's CPU time (user + system) per operation, in µs. */
export async function measured(
  count: number,
  run: () => Promise<void>,
): Promise<{ rate: number; cpuUsPerOp: number }> {
  const cpu = process.cpuUsage();
  const perSecond = await rate(count, run);
  const used = process.cpuUsage(cpu);
  return { rate: perSecond, cpuUsPerOp: (used.user + used.system) / count };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The order of the contenders in a round: rotated by one each round, so each goes first in turn. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * A full garbage collection: `globalThis.gc` under `--expose-gc`, else exposed at run time through
 * V8's flags; undefined when neither works (then numbers are taken without a forced gc).
 */
export const forceGc: (() => void) | undefined = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
})();
