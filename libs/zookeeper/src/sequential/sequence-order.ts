import { joinPath } from '../connection/paths.js';

/** One contender's znode in a lock or election directory. */
export interface QueuedNode {
  readonly name: string;
  readonly path: string;
  /** The marker found in the name: 'lock-', 'latch-', '__READ__', '__WRITE__'. */
  readonly marker: string;
  /** What follows the marker: the sequence number ZooKeeper appended, as text. */
  readonly sequence: string;
}

/**
 * The contenders in queue order, as Curator orders them: by the text after the last occurrence of
 * the marker, so the `_c_<uuid>-` prefix of protected names (random, and absent from names made
 * by other clients) plays no part. Sequence suffixes are zero-padded to the same width, which makes
 * the text order the numeric order. Children without a marker and a numeric suffix are not
 * contenders and are left out: they cannot be anyone's turn.
 */
export function orderContenders(
  basePath: string,
  children: readonly string[],
  markers: readonly string[],
): QueuedNode[] {
  const nodes: QueuedNode[] = [];
  for (const name of children) {
    const found = findMarker(name, markers);
    if (!found) continue;
    const sequence = name.slice(found.index + found.marker.length);
    if (!/^-?\d+$/.test(sequence)) continue;
    nodes.push({ name, path: joinPath(basePath, name), marker: found.marker, sequence });
  }
  return nodes.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
}

function findMarker(
  name: string,
  markers: readonly string[],
): { marker: string; index: number } | undefined {
  let best: { marker: string; index: number } | undefined;
  for (const marker of markers) {
    const index = name.lastIndexOf(marker);
    if (index >= 0 && (!best || index > best.index)) best = { marker, index };
  }
  return best;
}
