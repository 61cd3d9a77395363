import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ZookeeperInstallation } from './zookeeper-installation.js';

// What a ZooKeeper JVM of the testing module is started with, shared by ZookeeperTestingServer and
// ZookeeperTestingCluster: the settings, the zoo.cfg entries, the logging configs and the `java`
// argument list.

export type ZookeeperLogLevel = 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
export type ZookeeperConfigValue = string | number | boolean;

/** JVM and server settings shared by `ZookeeperTestingServer` and `ZookeeperTestingCluster`. */
export interface ZookeeperJvmSettings {
  /** Defaults to `findZookeeperInstallation()`. */
  installation?: ZookeeperInstallation;
  /** Milliseconds; also sets the minimum session timeout (2 ticks). Default 200. */
  tickTime?: number;
  /** Default 60000, so clients asking for long sessions are not capped unexpectedly. */
  maxSessionTimeout?: number;
  /** TTL and container nodes (`zookeeper.extendedTypesEnabled`). Default true. */
  extendedTypes?: boolean;
  /** Extra or overriding zoo.cfg entries. */
  config?: Record<string, ZookeeperConfigValue>;
  /** Extra `-Dkey=value` properties. */
  systemProperties?: Record<string, string>;
  /** Extra JVM options, appended after the defaults. */
  jvmOptions?: string[];
  /** Default 'INFO'. */
  logLevel?: ZookeeperLogLevel;
  /** How long `start()`/`restart()` wait for the server to answer. Default 30000. */
  startTimeoutMs?: number;
}

const DEFAULT_JVM_OPTIONS = [
  // Room for tests that store tens of MiB of chunked values (ZooKeeper keeps all data in memory).
  '-Xmx768m',
  '-Xss512k',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xshare:auto',
  // No hsperfdata files in /tmp, and never linger after an OOM.
  '-XX:-UsePerfData',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

/** @internal Rendering of zoo.cfg; later keys win. */
export function renderZooCfg(
  ...parts: Array<Record<string, ZookeeperConfigValue> | undefined>
): string {
  const merged: Record<string, ZookeeperConfigValue> = Object.assign({}, ...parts.filter(Boolean));
  const lines = Object.entries(merged).map(([key, value]) => `${key}=${value}\n`);
  return lines.join('');
}

/** @internal zoo.cfg entries both kinds of server share. */
export function commonZooCfg(
  settings: ZookeeperJvmSettings,
  dataDir: string,
  port: number,
): Record<string, ZookeeperConfigValue> {
  return {
    tickTime: settings.tickTime ?? 200,
    maxSessionTimeout: settings.maxSessionTimeout ?? 60_000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    // Tests open many connections from one address; the default caps them at 60.
    maxClientCnxns: 0,
    '4lw.commands.whitelist': '*',
    'admin.enableServer': false,
  };
}

/**
 * @internal Writes log4j 1.2 (Debian's build) and logback (Apache's binary release) configs
 * logging to stdout, which the watchdog appends to the log file: one writer, one file.
 */
export async function writeLoggingConfig(dir: string, level: ZookeeperLogLevel): Promise<string[]> {
  const log4j = join(dir, 'log4j.properties');
  const logback = join(dir, 'logback.xml');
  const appender = 'log4j.appender.CONSOLE';
  await writeFile(
    log4j,
    `log4j.rootLogger=${level}, CONSOLE\n${appender}=org.apache.log4j.ConsoleAppender\n` +
      `${appender}.layout=org.apache.log4j.PatternLayout\n` +
      `${appender}.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1} - %m%n\n`,
  );
  await writeFile(
    logback,
    `<configuration><appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">` +
      `<encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{0} - %msg%n</pattern></encoder>` +
      `</appender><root level="${level}"><appender-ref ref="CONSOLE"/></root></configuration>\n`,
  );
  return [`-Dlog4j.configuration=file:${log4j}`, `-Dlogback.configurationFile=${logback}`];
}

/** @internal Full `java` argument list for a ZooKeeper main class. */
export function zookeeperJvmArgs(
  installation: ZookeeperInstallation,
  settings: ZookeeperJvmSettings,
  loggingArgs: string[],
  mainClass: string,
  configFile: string,
): string[] {
  const properties: Record<string, string> = {
    'zookeeper.extendedTypesEnabled': String(settings.extendedTypes ?? true),
    'zookeeper.admin.enableServer': 'false',
    'zookeeper.jmx.log4j.disable': 'true',
    // Test data needs no fsync and no 64 MB preallocated transaction logs.
    'zookeeper.forceSync': 'no',
    'zookeeper.preAllocSize': '1024',
    // Expired TTL nodes and empty containers are reaped each second, not each minute, so tests
    // can watch it happen.
    'znode.container.checkIntervalMs': '1000',
    ...settings.systemProperties,
  };
  return [
    ...DEFAULT_JVM_OPTIONS,
    ...loggingArgs,
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
    ...(settings.jvmOptions ?? []),
    '-cp',
    installation.classpath,
    mainClass,
    configFile,
  ];
}
