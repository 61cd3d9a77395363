import { nodeName } from '../../connection/paths.js';
import { WrittenBatch } from '../shared/batch-appender.js';
import { parseBatchEntry, SegmentEntry } from '../shared/entry-names.js';

/** Own batches kept at most while the relay is behind (beyond, they are read from the server). */
const MAX_BATCHES = 4096;
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * The source batches this process appended and the relay has not relayed yet, with their bytes:
 * the relay takes them without waiting for the source's children watch, the listing it triggers
 * and a read of each batch (on the publisher's own session those reads wait behind its writes),
 * which would be three round trips before each step. Batches are written once and never
 * changed, so the bytes are those a read would return; the step's delete at version 0 still
 * proves it (a changed or removed batch fails the step, and the batches are then read anew).
 */
export class OwnBatches {
  private readonly batches = new Map<string, { entry: SegmentEntry; data?: Buffer }>();
  private bytes = 0;
  /**
   * Set once a batch was refused (full): from then on every batch comes through the listings,
   * until one that holds the last refused batch was relayed whole. Taking a later batch before
   * a refused one is relayed would put one publisher's batches out of order.
   */
  private refusedThrough?: number;

  /** Adds a batch just written; false when refused (the listing brings it). */
  add(batch: WrittenBatch): boolean {
    const parsed = parseBatchEntry(nodeName(batch.path), batch.segment);
    if (!parsed) return false;
    const full = this.batches.size >= MAX_BATCHES || this.bytes + batch.data.length > MAX_BYTES;
    if (full || this.refusedThrough !== undefined) {
      this.refusedThrough = Math.max(this.refusedThrough ?? 0, parsed.sequence);
      return false;
    }
    const entry = { ...parsed, segment: batch.segment, path: batch.path };
    this.batches.set(batch.path, { entry, data: batch.data });
    this.bytes += batch.data.length;
    return true;
  }

  /**
   * A pass relayed all of a listing: own batches are taken again once none is held and the
   * listing reached the last refused batch (so it and every earlier one are relayed).
   */
  listingRelayed(listed: readonly SegmentEntry[]): void {
    if (this.refusedThrough === undefined || this.batches.size > 0) return;
    const through = this.refusedThrough;
    if (listed.some((entry) => entry.sequence >= through)) this.refusedThrough = undefined;
  }

  get size(): number {
    return this.batches.size;
  }

  /**
   * No refused batch is waiting for a listing: every own batch written so far is held here or
   * relayed, so something appended after them (a direct append) keeps the publisher's order.
   */
  get inOrder(): boolean {
    return this.refusedThrough === undefined;
  }

  /** The entries not relayed yet, in sequence order. */
  entries(): SegmentEntry[] {
    return [...this.batches.values()]
      .map((own) => own.entry)
      .sort((a, b) => a.sequence - b.sequence);
  }

  /** The bytes written to `path`, when it is an own batch whose bytes are still trusted. */
  data(path: string): Buffer | undefined {
    return this.batches.get(path)?.data;
  }

  /** Relayed, or found gone. */
  forget(path: string): void {
    const own = this.batches.get(path);
    if (!own) return;
    this.bytes -= own.data?.length ?? 0;
    this.batches.delete(path);
  }

  /** A step failed: the batches stay to be relayed, but their bytes are read from the server. */
  distrust(): void {
    for (const own of this.batches.values()) own.data = undefined;
    this.bytes = 0;
  }

  clear(): void {
    this.batches.clear();
    this.bytes = 0;
    this.refusedThrough = undefined;
  }
}
