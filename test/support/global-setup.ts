import { tsImport } from 'tsx/esm/api';
import type { ZookeeperTestingServer } from '../../libs/zookeeper/src/testing/zookeeper-testing-server.js';

declare global {
  // Lives in Jest's main process between globalSetup and globalTeardown.
  var __ZK_TEST_SERVER__: ZookeeperTestingServer | undefined;
}

type ServerModule = typeof import('../../libs/zookeeper/src/testing/zookeeper-testing-server.js');

/**
 * One ZooKeeper for the whole run: test workers inherit process.env from this process, so
 * they all find it through ZK_TEST_CONNECT. ZK_CONNECT points the run at an existing ensemble.
 */
export default async function globalSetup(): Promise<void> {
  const external = process.env.ZK_CONNECT;
  if (external) {
    process.env.ZK_TEST_CONNECT = external;
    console.log(`\n[zookeeper] tests use the external ensemble ZK_CONNECT=${external}`);
    return;
  }
  // Jest loads this file through plain Node resolution, without moduleNameMapper, so the
  // library's NodeNext `.js` specifiers would not resolve to the `.ts` sources; tsx maps them.
  const { ZookeeperTestingServer }: ServerModule = await tsImport(
    '../../libs/zookeeper/src/testing/zookeeper-testing-server.ts',
    import.meta.url,
  );
  const started = Date.now();
  const server = await ZookeeperTestingServer.start();
  globalThis.__ZK_TEST_SERVER__ = server;
  process.env.ZK_TEST_CONNECT = server.connectString;
  console.log(
    `\n[zookeeper] tests use a local ZooKeeper ${server.connectString} ` +
      `(pid ${server.pid}, started in ${Date.now() - started} ms, log ${server.logFile})`,
  );
}
