import { Subscription } from 'rxjs';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { followChildNames } from '../../watch/child-names.js';
import { parseSegmentEntries, SegmentEntry } from '../shared/entry-names.js';
import { SegmentedFolder } from '../shared/segmented-folder.js';

/** The newest segment followed by name: its children as the last event left them. */
interface FollowedSegment {
  readonly index: number;
  readonly subscription: Subscription;
  /** Undefined until the follower's first listing is in. */
  names?: readonly string[];
  /** Emissions so far: a copy built from `names` is current while this has not moved. */
  changes: number;
}

/**
 * A consumer's sorted copy of the item list (every segment's, in order), taken from in sequence
 * order: the list is read (and parsed) once, then items come from it one after the other, so the
 * cost per item does not grow with the backlog. It is read again only when it runs dry and may be
 * out of date: a children watch fired since (new items, items finished by others, or a new
 * segment), or it was read without one.
 *
 * On a driver with persistent watches, an active consumer follows the newest segment by name
 * (followChildNames) instead: each item created or deleted comes as an event with its name, so
 * a read after it needs no listing from the server (one round trip less between a publish and
 * its take). The follower is dropped with the turn (`invalidate`): inactive consumers hold no
 * watch on the items, as before.
 */
export class ItemListing {
  private entries: SegmentEntry[] = [];
  /** Entries before `at` are done with. */
  private at = 0;
  /** Items known to be finished or gone, while a listing may still hold them. */
  private readonly gone = new Set<string>();
  /** The watch of the last read is still armed: nothing changed since. */
  private armed = false;
  private generation = 0;
  /** The generation whose watch fired last (it may fire before its read's reply is handled). */
  private fired = -1;
  /** The segments the last read found: listed together with the parent, not after it. */
  private known: readonly number[] = [0];
  /** The watch on the queue node's children (its segments) is armed. */
  private parentArmed = false;
  private parentToken = 0;
  private followed?: FollowedSegment;

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly segments: SegmentedFolder,
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
    this.unfollow();
  }

  /** The first entry from the cursor that is neither gone nor ruled out by `skip`. */
  next(skip: (name: string) => boolean): SegmentEntry | undefined {
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
   * Reads the list anew; with `watch`, arms a children watch on the newest segment that marks the
   * copy stale and calls `changed` (once: the next read arms the next one). Older segments are
   * sealed (a roll seals before it creates the next), so nothing is added to them and they are
   * read without a watch. New segments are learned from one watch on the queue node, kept armed
   * across reads: the node is listed only when that watch is not armed.
   */
  async read(watch: boolean): Promise<void> {
    const follow = watch && this.connection.capabilities.persistentWatches;
    if (!follow) this.unfollow();
    const generation = ++this.generation;
    const watcher =
      watch && !follow
        ? () => {
            if (generation !== this.generation || this.fired === generation) return;
            this.fired = generation;
            this.armed = false;
            this.changed();
          }
        : undefined;
    const known = this.known;
    /** The follower the newest segment's entries were taken from, and its emissions then. */
    let takenFrom: FollowedSegment | undefined;
    let followedAt: number | undefined;
    const entriesOf = (index: number, newest: boolean): Promise<SegmentEntry[]> => {
      if (!newest || !follow)
        return this.segments.segmentEntries(index, newest ? watcher : undefined);
      // A read dropped by `invalidate` meanwhile starts no follower: nothing would stop it.
      if (generation !== this.generation) return this.segments.segmentEntries(index);
      const followed = this.follow(index);
      // Until the follower's first listing is in, one listing of our own (its first emission
      // then marks this copy stale, so nothing that changed in between is missed).
      if (!followed.names) return this.segments.segmentEntries(index);
      takenFrom = followed;
      followedAt = followed.changes;
      return Promise.resolve(
        parseSegmentEntries(followed.names, this.segments.folder(index), index),
      );
    };
    const [indices, ...lists] = await Promise.all([
      this.parentArmed ? known : this.listSegments(),
      ...known.map((index) => entriesOf(index, index === known.at(-1))),
    ]);
    const byIndex = new Map(known.map((index, at) => [index, lists[at]]));
    for (const index of indices) {
      if (byIndex.has(index)) continue;
      byIndex.set(index, await entriesOf(index, index === indices.at(-1)));
    }
    if (generation !== this.generation) return;
    this.known = indices;
    this.entries = indices.flatMap((index) => byIndex.get(index)!);
    this.at = 0;
    // Kept while listed: a read sent before an item's deletion may still hold it.
    if (this.gone.size > 0) {
      const listed = new Set(this.entries.map((entry) => entry.name));
      for (const name of this.gone) if (!listed.has(name)) this.gone.delete(name);
    }
    // Armed only by the very follower the copy came from (a newer segment's new follower has a
    // count of its own), while it has not emitted since.
    const followed = this.followed;
    this.armed = follow
      ? this.parentArmed &&
        followed !== undefined &&
        followed === takenFrom &&
        followed.index === indices.at(-1) &&
        followed.changes === followedAt
      : watch && this.parentArmed && this.fired !== generation;
    // Older segments emptied by consumers are removed (rare: one per roll-over).
    if (indices.length > 1) void this.segments.removeEmpty(this.entries, indices).catch(() => {});
  }

  /** The follower of segment `index` (started, or moved from an older segment). */
  private follow(index: number): FollowedSegment {
    if (this.followed?.index === index) return this.followed;
    this.unfollow();
    const followed: FollowedSegment = { index, changes: 0, subscription: new Subscription() };
    this.followed = followed;
    followed.subscription.add(
      followChildNames(this.connection, this.segments.folder(index)).subscribe({
        next: (names) => {
          followed.names = names;
          followed.changes++;
          if (this.followed !== followed) return;
          this.armed = false;
          this.changed();
        },
        // Its retries gave up (the connection closed): the next read falls back to a listing.
        error: () => {
          if (this.followed === followed) this.followed = undefined;
        },
      }),
    );
    return followed;
  }

  private unfollow(): void {
    this.followed?.subscription.unsubscribe();
    this.followed = undefined;
  }

  /** Lists the queue's segments, arming the watch on the queue node (when none is armed). */
  private async listSegments(): Promise<readonly number[]> {
    const token = ++this.parentToken;
    let fired = false;
    const indices = await this.segments.indices(() => {
      // A segment came or went: every copy is out of date, whatever its generation. The event
      // may be handled before the listing's reply: then the watch is not armed any more.
      fired = true;
      if (token === this.parentToken) this.parentArmed = false;
      this.armed = false;
      this.changed();
    });
    // Armed only with the listing that armed it kept (a read dropped by `invalidate` still
    // leaves `known` right), and only when the node exists (no watch is set on a missing one).
    if (!fired && token === this.parentToken && indices.length > 0) {
      this.parentArmed = true;
      this.known = indices;
    }
    return indices;
  }
}
