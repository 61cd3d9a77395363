import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { ZookeeperTransportCommonOptions } from './zookeeper-transport-options.interface.js';

/** The connection a transport uses: the one it was given, or one it opens (and must close). */
export async function openTransportConnection(
  options: ZookeeperTransportCommonOptions,
  what: string,
): Promise<{ connection: ZookeeperConnection; owned: boolean }> {
  if (options.connection) return { connection: options.connection, owned: false };
  if (!options.connectionOptions) {
    throw new InvalidOptionsError(
      `${what} needs either \`connection\` (an open ZookeeperConnection) or \`connectionOptions\``,
    );
  }
  return { connection: await ZookeeperConnection.connect(options.connectionOptions), owned: true };
}
