import { isDeepStrictEqual } from 'node:util';
import { RegistrationConflictError } from '../errors/library-errors.js';

/**
 * One instance per key, created with the options of its first request. A later request for the
 * same key may leave the options out or repeat them; different options are refused with a typed
 * error rather than silently ignored.
 */
export class Registrations<T> {
  private readonly entries = new Map<string, { instance: T; options: unknown }>();

  constructor(
    /** Names the kind of instance in errors ('work queue', 'broadcast log', ...). */
    private readonly kind: string,
  ) {}

  get(key: string, options: unknown, create: () => T): T {
    const existing = this.entries.get(key);
    if (!existing) {
      const instance = create();
      this.entries.set(key, { instance, options });
      return instance;
    }
    if (options !== undefined && !isDeepStrictEqual(options, existing.options ?? {})) {
      throw new RegistrationConflictError(this.kind, key);
    }
    return existing.instance;
  }

  /** Every instance, forgotten: the next request for a key creates a new one. */
  drain(): T[] {
    const all = [...this.entries.values()].map((entry) => entry.instance);
    this.entries.clear();
    return all;
  }
}
