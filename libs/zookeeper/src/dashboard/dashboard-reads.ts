import { joinPath, sequenceNumber } from '../connection/paths.js';
import { segmentIndices, segmentName } from '../messaging/shared/segmented-folder.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NoNodeError } from '../errors/zookeeper-errors.js';
import { whenNoNode } from '../internal/no-node.js';

/** Nodes read at once by one sample (bounds the requests a sample puts in flight). */
const READS_AT_ONCE = 16;

/** Turns node data into what the page shows: JSON when it parses, else text (or a byte count). */
export function decodeData(data: Buffer, max = 4096): unknown {
  if (data.length === 0) return null;
  const text = data.subarray(0, max).toString('utf8');
  if (text.includes('\uFFFD')) return `<${data.length} bytes>`;
  if (data.length <= max) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return `${text}… (${data.length} bytes)`;
}

/** `read` for every item, a bounded number at a time. */
export async function inBatches<T, R>(
  items: readonly T[],
  read: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE) {
    results.push(...(await Promise.all(items.slice(i, i + READS_AT_ONCE).map(read))));
  }
  return results;
}

/** Orders sequential node names by their sequence number (names without one first). */
export function bySequence(a: string, b: string): number {
  return (sequenceNumber(a) ?? 0) - (sequenceNumber(b) ?? 0);
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** What the sampler shows of a node. */
export interface NodeInfo {
  data: unknown;
  since: number;
  session: string;
}

/** Node data read once per node (cached by path), forgotten when the node goes. */
export class DashboardNodes {
  private readonly nodes = new Map<string, NodeInfo>();

  constructor(private readonly connection: ZookeeperConnection) {}

  /** Reads a node once (data, creation time, owner session), then from the cache. */
  async read(path: string, reread = false): Promise<NodeInfo | undefined> {
    const cached = this.nodes.get(path);
    if (cached && !reread) return cached;
    try {
      const { data, stat } = await this.connection.get(path);
      const info = {
        data: decodeData(data),
        since: stat.ctime.getTime(),
        session: stat.ephemeralOwner,
      };
      this.nodes.set(path, info);
      return info;
    } catch (error) {
      if (error instanceof NoNodeError) {
        this.nodes.delete(path);
        return undefined;
      }
      throw error;
    }
  }

  /** Forgets the children of `parent` not in `keep`. */
  forgetUnder(parent: string, keep: readonly string[]): void {
    const prefix = `${parent}/`;
    const kept = new Set(keep.map((name) => prefix + name));
    for (const path of this.nodes.keys()) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/') && !kept.has(path)) {
        this.nodes.delete(path);
      }
    }
  }
}

/**
 * The newest segment of a log's or queue's folder (`log`, `log.1`, ...: see SegmentedFolder):
 * the dashboard samples that one; older segments only hold what is left from before a roll-over.
 */
export async function newestSegment(
  connection: ZookeeperConnection,
  parent: string,
  base: string,
): Promise<{ folder: string; index: number }> {
  const names = await connection.getChildren(parent).catch(whenNoNode<string[]>([]));
  const index = segmentIndices(base, names).at(-1) ?? 0;
  return { folder: joinPath(parent, segmentName(base, index)), index };
}
