/** How long a relayed batch's create id is remembered: well past any publisher's retries. */
const REMEMBER_MS = 10 * 60_000;
/** Ids remembered at most (the oldest go first): bounds memory under any rate. */
const MAX_REMEMBERED = 200_000;

const CREATE_ID = /^_c_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/;

/** The id of a protected create (`_c_<uuid>-…`): every retry of one create carries the same. */
export function createIdOf(name: string): string | undefined {
  return CREATE_ID.exec(name)?.[1];
}

/**
 * The create ids of the source batches a relay appended recently. A publisher whose create
 * reply was lost retries under the same protected name and searches for its first attempt
 * first; if the relay already consumed (deleted) that attempt, the search finds nothing and the
 * batch is created again. That copy carries an id seen here, so the relay drops it.
 *
 * Kept in memory: a copy whose first attempt a previous master relayed (a failover between the
 * two) is not recognised and is appended again.
 */
export class RelayedCreates {
  /** Id → when it was relayed; a Map keeps insertion order, oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly rememberMs = REMEMBER_MS,
    private readonly maxRemembered = MAX_REMEMBERED,
  ) {}

  has(name: string): boolean {
    const id = createIdOf(name);
    return id !== undefined && this.seen.has(id);
  }

  add(names: readonly string[], now = Date.now()): void {
    for (const name of names) {
      const id = createIdOf(name);
      if (id !== undefined) this.seen.set(id, now);
    }
    for (const [id, at] of this.seen) {
      if (this.seen.size <= this.maxRemembered && now - at <= this.rememberMs) break;
      this.seen.delete(id);
    }
  }
}
