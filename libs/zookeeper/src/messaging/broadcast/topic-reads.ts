import { joinPath } from '../../connection/paths.js';
import type { Stat } from '../../connection/zookeeper-types.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { whenNoNode } from '../../internal/no-node.js';

/** The subscriber ids of the registered client nodes (the data of each child of `clients/`). */
export async function registeredIds(
  connection: ZookeeperConnection,
  clientsPath: string,
): Promise<Set<string>> {
  const data = await readChildrenData(connection, clientsPath);
  return new Set([...data.values()].map((bytes) => bytes.toString('utf8')));
}

/** The data of each child of `path`, read in parallel; children deleted meanwhile are left out. */
export async function readChildrenData(
  connection: ZookeeperConnection,
  path: string,
): Promise<Map<string, Buffer>> {
  const read = await readChildren(connection, path);
  return new Map([...read].map(([name, { data }]) => [name, data]));
}

/** Each child of `path` with its data and stat; children deleted meanwhile are left out. */
export async function readChildren(
  connection: ZookeeperConnection,
  path: string,
): Promise<Map<string, { data: Buffer; stat: Stat }>> {
  const names = await connection.getChildren(path);
  const read = await Promise.all(
    names.map((name) =>
      connection
        .get(joinPath(path, name))
        .then((node) => [name, node] as const, whenNoNode(undefined)),
    ),
  );
  return new Map(read.filter((entry) => entry !== undefined));
}
