import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getServerMode, isServerOk, pollUntil } from './four-letter-word.js';
import { getFreePort } from './free-port.js';
import { ZookeeperProcessHandle } from './zookeeper-process-handle.js';
import { JavaProcess, readLogTail } from './java-process.js';
import { findZookeeperInstallation, type ZookeeperInstallation } from './zookeeper-installation.js';
import { LibraryErrorCode } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';
import { ZookeeperTestingError } from '../errors/library-errors.js';

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

export interface ZookeeperTestingServerOptions extends ZookeeperJvmSettings {
  /** Client port on 127.0.0.1; default a free one. */
  port?: number;
  /** Directory for zoo.cfg, data and log; default a new temp dir that `close()` removes. */
  baseDir?: string;
}

/** Startup failure; the message always names the log file and ends with its last lines. */
export class ZookeeperServerStartError extends ZookeeperError {
  constructor(
    message: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(
      LibraryErrorCode.SERVER_START,
      `${message}\nLog file: ${logFile}\n--- last lines ---\n${logTail}`,
    );
  }
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

/**
 * @internal Launches one ZooKeeper JVM and waits until `isReady` holds; on failure the JVM is
 * killed and the error carries the log tail.
 */
export async function launchZookeeperJvm(params: {
  installation: ZookeeperInstallation;
  args: string[];
  logFile: string;
  cwd: string;
  description: string;
  timeoutMs: number;
  isReady: () => Promise<boolean>;
}): Promise<JavaProcess> {
  await appendFile(
    params.logFile,
    `===== ${new Date().toISOString()} starting ${params.description} =====\n`,
  );
  const jvm = await JavaProcess.spawn({
    javaPath: params.installation.javaPath,
    args: params.args,
    logFile: params.logFile,
    cwd: params.cwd,
  });
  try {
    await pollUntil(async () => ((await params.isReady()) ? true : undefined), {
      timeoutMs: params.timeoutMs,
      intervalMs: 50,
      description: `${params.description} to become ready`,
      abort: () => {
        const exit = jvm.exitStatus;
        return exit
          ? new ZookeeperTestingError(
              `JVM exited during startup (code ${exit.code}, signal ${exit.signal})`,
            )
          : undefined;
      },
    });
    return jvm;
  } catch (error) {
    await jvm.kill();
    const tail = await readLogTail(params.logFile, 40);
    throw new ZookeeperServerStartError(
      `Failed to start ${params.description}: ${(error as Error).message}`,
      params.logFile,
      tail,
    );
  }
}

/**
 * A real standalone ZooKeeper (`ZooKeeperServerMain`) on 127.0.0.1 for tests.
 *
 * `await ZookeeperTestingServer.start(options)` creates and starts one; `new
 * ZookeeperTestingServer(options)` followed by `await server.start()` does the same in two
 * steps. Always `await server.close()` (stop + delete files). The JVM never outlives Node.
 * A failed start kills the JVM but keeps the files, so the log named in the
 * `ZookeeperServerStartError` can still be read; `close()` removes them.
 */
export class ZookeeperTestingServer extends ZookeeperProcessHandle {
  private readonly settings: ZookeeperTestingServerOptions;
  private portValue: number | undefined;
  private baseDirValue: string | undefined;
  private ownsBaseDir = false;
  private closed = false;

  constructor(options: ZookeeperTestingServerOptions = {}) {
    super();
    this.settings = { ...options };
    this.portValue = options.port;
  }

  static async start(options: ZookeeperTestingServerOptions = {}): Promise<ZookeeperTestingServer> {
    return new ZookeeperTestingServer(options).start();
  }

  get port(): number {
    if (this.portValue === undefined)
      throw new ZookeeperTestingError('ZookeeperTestingServer has not been started');
    return this.portValue;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get baseDir(): string {
    if (!this.baseDirValue)
      throw new ZookeeperTestingError('ZookeeperTestingServer has not been started');
    return this.baseDirValue;
  }

  get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  get logFile(): string {
    return join(this.baseDir, 'zookeeper.log');
  }

  /** Starts the JVM (no-op if running) and resolves once it answers `ruok` and `srvr`. */
  async start(): Promise<this> {
    if (this.closed) throw new ZookeeperTestingError('ZookeeperTestingServer was closed');
    if (this.running) return this;
    const installation = this.settings.installation ?? findZookeeperInstallation();
    if (!this.baseDirValue) {
      this.ownsBaseDir = !this.settings.baseDir;
      this.baseDirValue =
        this.settings.baseDir ?? (await mkdtemp(join(tmpdir(), 'nestjs-zk-server-')));
      await mkdir(this.dataDir, { recursive: true });
    }
    const fixedPort = this.portValue !== undefined;
    for (let attempt = 1; ; attempt++) {
      const port = (this.portValue ??= await getFreePort());
      const configFile = join(this.baseDir, 'zoo.cfg');
      await writeFile(
        configFile,
        renderZooCfg(commonZooCfg(this.settings, this.dataDir, port), this.settings.config),
      );
      const logging = await writeLoggingConfig(this.baseDir, this.settings.logLevel ?? 'INFO');
      try {
        this.jvm = await launchZookeeperJvm({
          installation,
          args: zookeeperJvmArgs(
            installation,
            this.settings,
            logging,
            'org.apache.zookeeper.server.ZooKeeperServerMain',
            configFile,
          ),
          logFile: this.logFile,
          cwd: this.baseDir,
          description: `ZooKeeper server on 127.0.0.1:${port}`,
          timeoutMs: this.settings.startTimeoutMs ?? 30_000,
          isReady: async () =>
            (await isServerOk('127.0.0.1', port)) &&
            (await getServerMode('127.0.0.1', port)) !== undefined,
        });
        return this;
      } catch (error) {
        // Another process may take a free port before the JVM binds it; only a port we chose can move.
        const portTaken =
          error instanceof ZookeeperServerStartError &&
          /Address already in use/.test(error.logTail);
        if (fixedPort || !portTaken || attempt >= 3) throw error;
        this.portValue = undefined;
      }
    }
  }

  /** Stops and starts again on the same port with the same data; resolves once ready. */
  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  /** Stops the server and deletes its temp dir (not a caller-supplied `baseDir`). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    if (this.ownsBaseDir && this.baseDirValue)
      await rm(this.baseDirValue, { recursive: true, force: true });
  }
}
