export {
  ZookeeperTestingServer,
  ZookeeperServerStartError,
  type ZookeeperTestingServerOptions,
} from './zookeeper-testing-server.js';
export type {
  ZookeeperJvmSettings,
  ZookeeperLogLevel,
  ZookeeperConfigValue,
} from './zookeeper-jvm-config.js';
export {
  ZookeeperTestingCluster,
  ZookeeperTestingClusterNode,
  type ZookeeperTestingClusterOptions,
} from './zookeeper-testing-cluster.js';
export {
  generateTestingTlsMaterial,
  findOpenssl,
  TESTING_TLS_SERVERNAME,
  type ZookeeperTestingTls,
  type ZookeeperTestingTlsMaterial,
  type ZookeeperTestingTlsOptions,
  type ZookeeperTlsClientAuth,
} from './zookeeper-testing-tls.js';
export {
  locateZookeeper,
  findZookeeperInstallation,
  parseJavaVersion,
  ZookeeperInstallationError,
  type ZookeeperInstallation,
  type LocateZookeeperOptions,
} from './zookeeper-installation.js';
export {
  fourLetterWord,
  isServerOk,
  getServerMode,
  parseServerMode,
  parseSrvr,
  parseMntr,
  type FourLetterWord,
  type ZookeeperServerMode,
  type SrvrInfo,
} from './four-letter-word.js';
export { getFreePort, getFreePorts, isPortFree } from './free-port.js';
export { JavaProcess, type JavaProcessOptions, type JavaExit } from './java-process.js';
export * from './expire-session.js';
export { ZookeeperProcessHandle } from './zookeeper-process-handle.js';
