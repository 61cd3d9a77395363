// Runs before the test suite (`npm test`): makes sure a ZooKeeper server can be started, so a
// missing dependency fails in seconds with instructions instead of in every test file.
import {
  locateZookeeper,
  ZookeeperInstallationError,
} from '../libs/zookeeper/src/testing/zookeeper-installation.js';
import { ensureOpenssl } from '../libs/zookeeper/src/testing/zookeeper-testing-tls.js';

const prefix = '[zookeeper:ensure]';

async function main(): Promise<number> {
  const external = process.env.ZK_CONNECT;
  if (external) {
    console.log(
      `${prefix} ZK_CONNECT is set: tests will use the ZooKeeper ensemble at ${external}`,
    );
    return 0;
  }
  const started = Date.now();
  try {
    const installation = await locateZookeeper({
      installIfMissing: true,
      log: (line) => console.log(`${prefix} ${line}`),
    });
    console.log(
      `${prefix} ZooKeeper ${installation.version ?? '(unknown version)'} via ${installation.source}, ` +
        `Java ${installation.javaVersion} at ${installation.javaPath} (${Date.now() - started} ms)`,
    );
    // Only servers started with `tls` need openssl (for their certificates): a warning, not a failure.
    const openssl = await ensureOpenssl((line) => console.log(`${prefix} ${line}`));
    if ('missing' in openssl)
      console.warn(
        `${prefix} warning: ${openssl.missing}; ZookeeperTestingServer({ tls }) will fail ` +
          '(install openssl, or set OPENSSL to its path)',
      );
    return 0;
  } catch (error) {
    if (error instanceof ZookeeperInstallationError) {
      console.error(`${prefix} ${error.message}`);
    } else {
      console.error(`${prefix} unexpected failure:`, error);
    }
    return 1;
  }
}

process.exitCode = await main();
