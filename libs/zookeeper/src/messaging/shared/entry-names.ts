import { joinPath } from '../../connection/paths.js';

/**
 * Batch znodes are named `m<count>-<10-digit sequence>`, behind the `_c_<uuid>-` prefix of a
 * protected create. The count in the name lets retention and `from: 'latest'` work from one
 * getChildren, without reading any batch.
 */
export interface BatchEntry {
  readonly name: string;
  /** Its place in the log or queue: the segment's number times SEQUENCE_STRIDE plus its own. */
  readonly sequence: number;
  readonly count: number;
}

/** A batch entry of a segmented folder (see SegmentedFolder): where it is. */
export interface SegmentEntry extends BatchEntry {
  readonly segment: number;
  readonly path: string;
}

/**
 * Sequence numbers a segment can give before its parent's signed 32-bit change counter wraps
 * (ZooKeeper then names children `-2147483648`): the stride between two segments' sequences.
 */
export const SEQUENCE_STRIDE = 2 ** 31;

const ENTRY_PATTERN = /(?:^|-)m(\d+)-(\d{10})$/;

export function batchNamePrefix(count: number): string {
  return `m${count}-`;
}

/** The batch entry named `name`, or undefined when it is not a batch name. */
export function parseBatchEntry(name: string, segment = 0): BatchEntry | undefined {
  const match = ENTRY_PATTERN.exec(name);
  if (!match) return undefined;
  const own = Number(match[2]);
  // A 10-digit name past the counter's range was not made by ZooKeeper's sequence.
  if (own >= SEQUENCE_STRIDE) return undefined;
  return { name, count: Number(match[1]), sequence: segment * SEQUENCE_STRIDE + own };
}

/** Batch entries among `names`, in log order (by sequence, not by name: names start with a uuid). */
export function parseBatchEntries(names: readonly string[]): BatchEntry[] {
  const entries: BatchEntry[] = [];
  for (const name of names) {
    const entry = parseBatchEntry(name);
    if (entry) entries.push(entry);
  }
  return entries.sort(bySequence);
}

/** The batch entries among the children `names` of segment `segment` at `folder`, in order. */
export function parseSegmentEntries(
  names: readonly string[],
  folder: string,
  segment: number,
): SegmentEntry[] {
  const entries: SegmentEntry[] = [];
  for (const name of names) {
    const entry = parseBatchEntry(name, segment);
    if (entry) entries.push({ ...entry, segment, path: joinPath(folder, name) });
  }
  return entries.sort(bySequence);
}

/**
 * The names whose own sequence number (their last 10 digits) is at least `from`: a cheap cut
 * before parsing, for a reader that is past most of a long listing. Names that are not batch
 * names are kept (the parser leaves them out).
 */
export function namesFromSequence(names: readonly string[], from: number): readonly string[] {
  if (from <= 0) return names;
  return names.filter((name) => !(Number(name.slice(-10)) < from));
}

function bySequence(a: BatchEntry, b: BatchEntry): number {
  return a.sequence - b.sequence;
}

/** A znode name that needs no escaping: ids become path segments as they are. */
export function isSafeNodeName(name: string): boolean {
  return /^[A-Za-z0-9._:@-]{1,200}$/.test(name) && name !== '.' && name !== '..';
}
