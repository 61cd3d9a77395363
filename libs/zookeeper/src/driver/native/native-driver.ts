import { DriverUnavailableError } from '../../errors/driver-errors.js';
import { ZookeeperDriver } from '../driver-session.interface.js';
import { NativeSession, ZooKeeperClass } from './native-session.js';

/**
 * The `zookeeper` npm package (the C client in a Node addon), an optional dependency: loaded only
 * when a connection asks for it, so installs without a C++ toolchain still work on `wire`.
 */
export async function loadNativeDriver(): Promise<ZookeeperDriver> {
  let ZooKeeperClient: ZooKeeperClass;
  try {
    ZooKeeperClient = (await import('zookeeper')).default;
  } catch (error) {
    throw new DriverUnavailableError(
      'native',
      "the optional 'zookeeper' package is not installed or did not build " +
        '(it compiles the ZooKeeper C client: needs python3, make and g++); ' +
        "run 'npm install zookeeper', or use the default driver 'wire'",
      error,
    );
  }
  return {
    name: 'native',
    capabilities: { multi: false, createWithAcl: false, persistentWatches: false, tls: false },
    createSession: (config, listener) => new NativeSession(ZooKeeperClient, config, listener),
  };
}
