/**
 * Batch znodes are named `m<count>-<10-digit sequence>`, behind the `_c_<uuid>-` prefix of a
 * protected create. The count in the name lets retention and `from: 'latest'` work from one
 * getChildren, without reading any batch.
 */
export interface BatchEntry {
  readonly name: string;
  readonly sequence: number;
  readonly count: number;
}

const ENTRY_PATTERN = /(?:^|-)m(\d+)-(\d{10})$/;

export function batchNamePrefix(count: number): string {
  return `m${count}-`;
}

/** The batch entry named `name`, or undefined when it is not a batch name. */
export function parseBatchEntry(name: string): BatchEntry | undefined {
  const match = ENTRY_PATTERN.exec(name);
  return match ? { name, count: Number(match[1]), sequence: Number(match[2]) } : undefined;
}

/** Batch entries among `names`, in log order (by sequence, not by name: names start with a uuid). */
export function parseBatchEntries(names: readonly string[]): BatchEntry[] {
  const entries: BatchEntry[] = [];
  for (const name of names) {
    const entry = parseBatchEntry(name);
    if (entry) entries.push(entry);
  }
  return entries.sort((a, b) => a.sequence - b.sequence);
}

/** A znode name that needs no escaping: ids become path segments as they are. */
export function isSafeNodeName(name: string): boolean {
  return /^[A-Za-z0-9._:@-]{1,200}$/.test(name) && name !== '.' && name !== '..';
}
