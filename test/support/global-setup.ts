import { tsImport } from 'tsx/esm/api';
import type { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';

declare global {
  // Lives in Jest's main process between globalSetup and globalTeardown.
  var __ZK_TEST_SERVER__: ZookeeperTestingServer | undefined;
}

type TestingModule = typeof import('nestjs-zookeeper/testing');

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
  // package name would resolve to the build and the library's NodeNext `.js` specifiers not to
  // the `.ts` sources; tsx resolves both through tsconfig.json (paths) to the sources.
  const { ZookeeperTestingServer }: TestingModule = await tsImport(
    'nestjs-zookeeper/testing',
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
