import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { BatchEntry, parseBatchEntries } from '../shared/entry-names.js';

/**
 * A consumer's sorted copy of the item list, taken from in sequence order: the list is read (and
 * parsed) once, then items come from it one after the other, so the cost per item does not grow
 * with the backlog. It is read again only when it runs dry and may be out of date: a children
 * watch fired since (new items, or items finished by others), or it was read without one.
 */
export class ItemListing {
  private entries: BatchEntry[] = [];
  /** Entries before `at` are done with. */
  private at = 0;
  /** Items known to be finished or gone, while a listing may still hold them. */
  private readonly gone = new Set<string>();
  /** The watch of the last read is still armed: nothing changed since. */
  private armed = false;
  private generation = 0;
  /** The generation whose watch fired last (it may fire before its read's reply is handled). */
  private fired = -1;

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly path: string,
    /** Called when the armed watch fires. */
    private readonly changed: () => void,
  ) {}

  /** True when a read could find items this copy lacks. */
  get stale(): boolean {
    return !this.armed;
  }

  /** Forgets the armed watch (its firing is ignored): the next read arms a new one. */
  invalidate(): void {
    this.generation++;
    this.armed = false;
  }

  /** The first entry from the cursor that is neither gone nor ruled out by `skip`. */
  next(skip: (name: string) => boolean): BatchEntry | undefined {
    while (this.at < this.entries.length && this.gone.delete(this.entries[this.at].name)) {
      this.at++;
    }
    for (let index = this.at; index < this.entries.length; index++) {
      const entry = this.entries[index];
      if (!this.gone.has(entry.name) && !skip(entry.name)) return entry;
    }
    return undefined;
  }

  /** The item is finished or no longer in the queue. */
  markGone(name: string): void {
    this.gone.add(name);
  }

  /**
   * Reads the list anew; with `watch`, arms a children watch that marks the copy stale and calls
   * `changed` (once: the next read arms the next one).
   */
  async read(watch: boolean): Promise<void> {
    const generation = ++this.generation;
    const names = await this.connection.getChildren(this.path, {
      watch: watch
        ? () => {
            if (generation !== this.generation) return;
            this.fired = generation;
            this.armed = false;
            this.changed();
          }
        : undefined,
    });
    if (generation !== this.generation) return;
    this.entries = parseBatchEntries(names);
    this.at = 0;
    // Kept while listed: a read sent before an item's deletion may still hold it.
    if (this.gone.size > 0) {
      const listed = new Set(names);
      for (const name of this.gone) if (!listed.has(name)) this.gone.delete(name);
    }
    this.armed = watch && this.fired !== generation;
  }
}
