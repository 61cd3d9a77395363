import fc from 'fast-check';

/**
 * Settings of the property-based (fuzz) tests, `*.fuzz.spec.ts`. Every property runs from one
 * seed, fixed by default so that CI runs the same cases each time; `FC_SEED=<n>` runs them from
 * another seed, `FC_RUNS=<factor>` multiplies the number of runs (`FC_RUNS=20` for a long local
 * hunt). A failure prints the seed and the path of the shrunk counterexample: add it to the test
 * as a named regression case (`fuzzParams(n, { seed, path })` or an explicit example).
 */
export const FUZZ_SEED = parseInteger('FC_SEED', process.env.FC_SEED, 20_260_415);
const RUNS_FACTOR = parseFactor(process.env.FC_RUNS);

/** Parameters of one property: the suite's seed and `numRuns` scaled by FC_RUNS. */
export function fuzzParams<T>(numRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * RUNS_FACTOR)),
    ...extra,
  };
}

/** A regression case kept from an earlier failure: replays exactly that counterexample. */
export function replay<T>(seed: number, path: string): fc.Parameters<T> {
  return { seed, path, numRuns: 1, endOnFailure: true };
}

function parseInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got '${text}'`);
  return value;
}

function parseFactor(text: string | undefined): number {
  if (text === undefined || text === '') return 1;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`FC_RUNS must be a number above 0, got '${text}'`);
  return value;
}

/** Calls `fn`; an error that `allowed` does not accept is rethrown with what was thrown. */
export function onlyTyped<T>(fn: () => T, allowed: (error: unknown) => boolean): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (allowed(error)) return undefined;
    throw new Error(`unexpected ${errorText(error)}`, { cause: error });
  }
}

/** An error's class and message, for failure messages. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  try {
    return `non-error ${JSON.stringify(error)}`;
  } catch {
    return 'non-error value';
  }
}
