import { InvalidOptionsError } from '../errors/library-errors.js';

/**
 * Checks of numeric options, made where an option is received (a constructor, `consume(options)`)
 * so a NaN, a zero or an out-of-range value fails at once with InvalidOptionsError naming the
 * option, the value and what is allowed, instead of being clamped or passed on silently (NaN
 * compares false with everything, so `Math.max(1, NaN)` is NaN and `setTimeout(f, NaN)` fires at
 * once). `undefined` always passes: the option's default applies.
 */

/** The longest delay `setTimeout` honours (a longer one fires after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where an option was given, for the message: e.g. "WorkQueue '/jobs' consume". */
export type OptionOwner = string;

interface NumberRule {
  integer?: boolean;
  min?: number;
  /** `min` itself is not allowed (e.g. > 0 for a non-integer). */
  minExclusive?: boolean;
  max?: number;
  /** Why `max`, when it is not obvious ("the connection's maxFrameBytes"). */
  maxReason?: string;
}

function describeRule({ integer, min, minExclusive, max, maxReason }: NumberRule): string {
  const kind = integer ? 'an integer' : 'a finite number';
  const bounds: string[] = [];
  if (min !== undefined) bounds.push(`${minExclusive ? 'above' : 'at least'} ${min}`);
  if (max !== undefined) bounds.push(`at most ${max}${maxReason ? ` (${maxReason})` : ''}`);
  return bounds.length ? `${kind}, ${bounds.join(' and ')}` : kind;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || value === null || typeof value === 'boolean')
    return String(value);
  return typeof value === 'bigint' ? `${value}n` : `a ${typeof value}`;
}

/** The rule a value breaks, or undefined when it is allowed. */
export function brokenNumberRule(value: unknown, rule: NumberRule): string | undefined {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.minExclusive ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || value <= rule.max);
  return ok ? undefined : describeRule(rule);
}

/** Throws InvalidOptionsError "<owner>: 'name' must be <rule>, got <value>" unless allowed. */
export function checkNumber(
  owner: OptionOwner,
  name: string,
  value: unknown,
  rule: NumberRule,
): void {
  if (value === undefined) return;
  const broken = brokenNumberRule(value, rule);
  if (broken !== undefined) {
    throw new InvalidOptionsError(`${owner}: '${name}' must be ${broken}, got ${shown(value)}`);
  }
}

/** 1, 2, 3 …, up to `max`: counts of things (concurrency, attempts, entries). */
export function positiveInteger(
  owner: OptionOwner,
  name: string,
  value: unknown,
  max = Number.MAX_SAFE_INTEGER,
): void {
  checkNumber(owner, name, value, { integer: true, min: 1, max });
}

/** 0, 1, 2 …: counts where none is meaningful (retries). */
export function nonNegativeInteger(owner: OptionOwner, name: string, value: unknown): void {
  checkNumber(owner, name, value, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
}

/** A quantity compared, not timed (an age, an interval between timestamps): 0 or more. */
export function nonNegativeNumber(owner: OptionOwner, name: string, value: unknown): void {
  checkNumber(owner, name, value, { min: 0 });
}

/** As `nonNegativeNumber`, where 0 makes no sense (a maximum age). */
export function positiveNumber(owner: OptionOwner, name: string, value: unknown): void {
  checkNumber(owner, name, value, { min: 0, minExclusive: true });
}

/** A delay or interval in ms where 0 means "at once": 0 … MAX_TIMER_MS. */
export function nonNegativeMs(owner: OptionOwner, name: string, value: unknown): void {
  checkNumber(owner, name, value, { min: 0, max: MAX_TIMER_MS });
}

/** A timeout in ms, which 0 would make fail at once: above 0 … MAX_TIMER_MS. */
export function positiveMs(owner: OptionOwner, name: string, value: unknown): void {
  checkNumber(owner, name, value, { min: 0, minExclusive: true, max: MAX_TIMER_MS });
}

/**
 * A size of one znode's data or one batch: 1 … the connection's `maxFrameBytes` (ZooKeeper's
 * jute.maxbuffer, which bounds a whole request: a larger node could never be written).
 */
export function byteLimit(
  owner: OptionOwner,
  name: string,
  value: unknown,
  maxFrameBytes: number,
): void {
  checkNumber(owner, name, value, {
    integer: true,
    min: 1,
    max: maxFrameBytes,
    maxReason: "the connection's maxFrameBytes, the servers' jute.maxbuffer",
  });
}

/** One of the listed strings. */
export function oneOf(
  owner: OptionOwner,
  name: string,
  value: unknown,
  allowed: readonly string[],
): void {
  if (value === undefined || allowed.includes(value as string)) return;
  throw new InvalidOptionsError(
    `${owner}: '${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${shown(value)}`,
  );
}
