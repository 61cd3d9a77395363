import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NodeExistsError } from '../errors/zookeeper-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { InvalidPacketError } from './transport-errors.js';
import { TransportPaths } from './transport-paths.js';

/**
 * How a server delivers an event pattern, written where clients read it to route `emit()`: to
 * the pattern's work queue, or (`broadcast`) to its log. The last server to start decides.
 */
export async function declarePattern(
  connection: ZookeeperConnection,
  paths: TransportPaths,
  pattern: string,
  broadcast: boolean,
): Promise<void> {
  const info = JSON.stringify({ broadcast });
  const path = paths.patternInfo(pattern);
  await connection.create(path, info, { createParents: true }).catch(async (error) => {
    if (!(error instanceof NodeExistsError)) throw error;
    await connection.set(path, info);
  });
}

/**
 * Whether a server declared `pattern` a broadcast pattern; undefined while none declared it.
 * Fails with InvalidPacketError when the declaration is not what a server writes.
 */
export async function readPatternDeclaration(
  connection: ZookeeperConnection,
  paths: TransportPaths,
  pattern: string,
): Promise<boolean | undefined> {
  const path = paths.patternInfo(pattern);
  const read = await connection.get(path).catch(whenNoNode(undefined));
  if (!read) return undefined;
  try {
    return (JSON.parse(read.data.toString('utf8')) as { broadcast?: boolean }).broadcast === true;
  } catch {
    throw new InvalidPacketError(`the pattern's declaration is not JSON`, path);
  }
}
