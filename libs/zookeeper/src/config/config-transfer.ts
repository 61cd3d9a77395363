import { joinPath, nodeName, validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { OptionalDependencyMissingError } from '../errors/library-errors.js';
import { ignoreNodeExists, ignoreNoNode, whenNoNode } from '../internal/no-node.js';
import { flatten, layerValues, loadYaml, unflatten } from './config-tree.js';

const IN_FLIGHT = 256;

export interface ImportConfigOptions {
  /**
   * `keys` (default): one znode per key (`db.pool.size` → `<layer>/db/pool/size`, data `20`);
   * `json` or `yaml`: the whole object as a document in the layer znode's data.
   */
  as?: 'keys' | 'json' | 'yaml';
  /** Delete what the layer holds beyond the imported values (other key znodes, its document). */
  prune?: boolean;
}

export interface ImportConfigResult {
  written: number;
  unchanged: number;
  deleted: number;
}

/**
 * Writes `values` (a nested object, as read from a JSON or YAML file) into the layer at
 * `layerPath`. Strings are written as they are; numbers and booleans as their text; arrays and
 * objects below a key as JSON. Existing znodes with the same data are not written again.
 */
export async function importConfigLayer(
  connection: ZookeeperConnection,
  layerPath: string,
  values: Record<string, unknown>,
  options: ImportConfigOptions = {},
): Promise<ImportConfigResult> {
  validatePath(layerPath, 'importConfigLayer');
  await connection.mkdirp(layerPath);
  const existing = await readTree(connection, layerPath);
  const result: ImportConfigResult = { written: 0, unchanged: 0, deleted: 0 };
  const as = options.as ?? 'keys';
  if (as !== 'keys') {
    const text =
      as === 'json'
        ? `${JSON.stringify(values, null, 2)}\n`
        : (await requireYaml()).dump(values, { lineWidth: 100 });
    if (existing.get(layerPath)?.toString('utf8') === text) result.unchanged++;
    else {
      await connection.set(layerPath, text);
      result.written++;
    }
    if (options.prune)
      result.deleted += await deleteBelow(connection, layerPath, existing, new Set());
    return result;
  }
  const wanted = new Map<string, string>();
  for (const [key, value] of flatten(values)) {
    const path = joinPath(layerPath, ...key.split('.'));
    validatePath(path, 'importConfigLayer');
    wanted.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const parents = new Set<string>();
  for (const path of wanted.keys()) {
    for (let parent = parentOf(path); parent.length > layerPath.length; parent = parentOf(parent)) {
      parents.add(parent);
    }
  }
  const missingParents = [...parents]
    .filter((path) => !existing.has(path))
    .sort((a, b) => depth(a) - depth(b));
  for (const level of groupBy(missingParents, depth)) {
    await inBatches(level, (path) => connection.create(path).catch(ignoreNodeExists));
  }
  await inBatches([...wanted], async ([path, text]) => {
    const current = existing.get(path);
    if (current?.toString('utf8') === text) {
      result.unchanged++;
      return;
    }
    if (current) await connection.set(path, text);
    else {
      await connection.create(path, text).catch(async (error: unknown) => {
        ignoreNodeExists(error);
        await connection.set(path, text);
      });
    }
    result.written++;
  });
  if (options.prune) {
    const keep = new Set([...wanted.keys(), ...parents]);
    result.deleted += await deleteBelow(connection, layerPath, existing, keep);
    if ((existing.get(layerPath)?.length ?? 0) > 0) {
      await connection.set(layerPath, '');
      result.deleted++;
    }
  }
  return result;
}

/**
 * The layer at `layerPath` as a nested object: its document (if any) overridden by its key
 * znodes, exactly as the configuration reads it. `{}` when the layer does not exist.
 */
export async function exportConfigLayer(
  connection: ZookeeperConnection,
  layerPath: string,
): Promise<Record<string, unknown>> {
  validatePath(layerPath, 'exportConfigLayer');
  const nodes = await readTree(connection, layerPath);
  const values = layerValues(
    { name: nodeName(layerPath), path: layerPath },
    nodes,
    await loadYaml(),
  );
  return unflatten(values);
}

/** Every znode of the subtree (data by path), read breadth first with pipelined requests. */
async function readTree(
  connection: ZookeeperConnection,
  rootPath: string,
): Promise<Map<string, Buffer>> {
  const nodes = new Map<string, Buffer>();
  let level = [rootPath];
  while (level.length > 0) {
    const next: string[] = [];
    await inBatches(level, async (path) => {
      const [node, children] = await Promise.all([
        connection.get(path).catch(whenNoNode(undefined)),
        connection.getChildren(path).catch(whenNoNode([] as string[])),
      ]);
      if (!node) return;
      nodes.set(path, node.data);
      for (const child of children) next.push(joinPath(path, child));
    });
    level = next;
  }
  return nodes;
}

/** Deletes the nodes below `layerPath` not in `keep`, deepest first; returns how many. */
async function deleteBelow(
  connection: ZookeeperConnection,
  layerPath: string,
  existing: ReadonlyMap<string, Buffer>,
  keep: ReadonlySet<string>,
): Promise<number> {
  const doomed = [...existing.keys()].filter((path) => path !== layerPath && !keep.has(path));
  const levels = groupBy(doomed, depth).reverse();
  for (const level of levels) {
    await inBatches(level, (path) => connection.delete(path).catch(ignoreNoNode));
  }
  return doomed.length;
}

async function requireYaml() {
  const yaml = await loadYaml();
  if (!yaml) throw new OptionalDependencyMissingError('js-yaml', 'writing a YAML document');
  return yaml;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function depth(path: string): number {
  return path.split('/').length;
}

/** Groups sorted items into runs of equal `key`, in order of first appearance. */
function groupBy<T>(items: readonly T[], key: (item: T) => number): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of [...items].sort((a, b) => key(a) - key(b))) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return [...groups.values()];
}

async function inBatches<T>(
  items: readonly T[],
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, worker));
}
