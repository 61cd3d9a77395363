import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LibraryErrorCode, ZookeeperTestingError } from '../errors/library-errors.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';

export interface ZookeeperInstallation {
  /** Absolute path of a Java 17+ `java` executable. */
  javaPath: string;
  javaVersion: number;
  /** Classpath that runs `org.apache.zookeeper.server.ZooKeeperServerMain` and `QuorumPeerMain`. */
  classpath: string;
  /** ZooKeeper version, e.g. "3.8.0", as reported by `org.apache.zookeeper.Version`. */
  version?: string;
  source: 'ZOOKEEPER_CLASSPATH' | 'ZOOKEEPER_HOME' | 'system';
}

export interface LocateZookeeperOptions {
  /** Install missing pieces with apt-get (root on Debian/Ubuntu only). Default `false`. */
  installIfMissing?: boolean;
  /** Receives progress lines, including apt-get output. */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export class ZookeeperInstallationError extends ZookeeperError {
  constructor(
    message: string,
    /** Each place that was looked at and why it did not qualify. */
    readonly reasons: readonly string[] = [],
  ) {
    super(LibraryErrorCode.INSTALLATION, message);
  }
}

const MIN_JAVA = 17;
const MIN_ZOOKEEPER: readonly [number, number] = [3, 8];
const SYSTEM_JAR_DIR = '/usr/share/java';
// Debian/Ubuntu ship each dependency as its own unversioned jar; these are what the server
// needs at run time (slf4j-log4j12 + log4j-1.2 because Debian builds 3.8 against log4j 1.2).
const SYSTEM_REQUIRED_JARS = (
  'zookeeper zookeeper-jute slf4j-api netty-buffer netty-codec netty-common netty-handler ' +
  'netty-resolver netty-transport netty-transport-native-unix-common metrics-core commons-cli commons-io'
)
  .split(' ')
  .map((name) => `${name}.jar`);
const SYSTEM_OPTIONAL_JARS =
  'slf4j-log4j12 log4j-1.2 netty-transport-native-epoll snappy-java commons-lang3'
    .split(' ')
    .map((name) => `${name}.jar`);
// libzookeeper-java holds exactly the server jars; the `zookeeper` package adds ZooInspector and
// pulls the full desktop JRE (about 90 more packages), which a test machine does not need.
const APT_PACKAGES = ['libzookeeper-java', 'default-jre-headless'];

/** @internal A file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** @internal `command` as found on `env.PATH`, or `undefined`. */
export function whichSync(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** Major version from `java -version` output ("17.0.15" -> 17, "1.8.0_392" -> 8). */
export function parseJavaVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 && match[2] !== undefined ? Number(match[2]) : major;
}

/** Runs `java` synchronously; `undefined` unless it exits with 0. Output is stdout + stderr. */
function runJava(javaPath: string, args: string[]): string | undefined {
  const result = spawnSync(javaPath, args, { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}

function findJava(
  env: NodeJS.ProcessEnv,
  reasons: string[],
): { javaPath: string; javaVersion: number } | undefined {
  const candidates: string[] = [];
  if (env.JAVA_HOME) candidates.push(join(env.JAVA_HOME, 'bin', 'java'));
  const onPath = whichSync('java', env);
  if (onPath) candidates.push(onPath);
  // Debian's alternatives link, for environments whose PATH lacks /usr/bin.
  if (isExecutable('/usr/lib/jvm/default-java/bin/java'))
    candidates.push('/usr/lib/jvm/default-java/bin/java');
  if (candidates.length === 0) reasons.push('java: not on PATH and JAVA_HOME is not set');
  for (const candidate of new Set(candidates)) {
    if (!isExecutable(candidate)) {
      reasons.push(`${candidate}: not an executable`);
      continue;
    }
    const version = parseJavaVersion(runJava(candidate, ['-version']) ?? '');
    if (version !== undefined && version >= MIN_JAVA)
      return { javaPath: candidate, javaVersion: version };
    reasons.push(`${candidate}: Java ${version ?? 'of unknown version'}, need ${MIN_JAVA}+`);
  }
  return undefined;
}

function jarsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.jar'))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

function classpathFromHome(home: string, reasons: string[]): string | undefined {
  // Binary release: lib/*.jar; older layouts and some packagers also keep the jar at the top.
  const jars = [...jarsIn(home), ...jarsIn(join(home, 'lib'))];
  if (!jars.some((jar) => /[/\\]zookeeper-\d[^/\\]*\.jar$|[/\\]zookeeper\.jar$/.test(jar))) {
    reasons.push(`ZOOKEEPER_HOME=${home}: no zookeeper-<version>.jar in it or in its lib/`);
    return undefined;
  }
  return jars.join(delimiter);
}

function classpathFromSystem(reasons: string[]): string | undefined {
  const missing = SYSTEM_REQUIRED_JARS.filter((jar) => !existsSync(join(SYSTEM_JAR_DIR, jar)));
  if (missing.length > 0) {
    reasons.push(`${SYSTEM_JAR_DIR}: missing ${missing.join(', ')}`);
    return undefined;
  }
  const optional = SYSTEM_OPTIONAL_JARS.filter((jar) => existsSync(join(SYSTEM_JAR_DIR, jar)));
  return [...SYSTEM_REQUIRED_JARS, ...optional]
    .map((jar) => join(SYSTEM_JAR_DIR, jar))
    .join(delimiter);
}

/** Runs `org.apache.zookeeper.Version`, which proves the classpath loads ZooKeeper's classes. */
function zookeeperVersionOf(javaPath: string, classpath: string): string | undefined {
  const output = runJava(javaPath, ['-cp', classpath, 'org.apache.zookeeper.Version']);
  return output ? /^(\d+\.\d+\.\d+)/m.exec(output)?.[1] : undefined;
}

function isSupportedZookeeper(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_ZOOKEEPER[0] || (major === MIN_ZOOKEEPER[0] && minor >= MIN_ZOOKEEPER[1]);
}

type Attempt = {
  installation?: ZookeeperInstallation;
  javaMissing: boolean;
  zookeeperMissing: boolean;
  /** An explicitly configured location is broken: installing packages would not help. */
  misconfigured: boolean;
  reasons: string[];
};

const cache = new Map<string, ZookeeperInstallation>();

function attempt(env: NodeJS.ProcessEnv): Attempt {
  const cacheKey = JSON.stringify([
    env.JAVA_HOME,
    env.PATH,
    env.ZOOKEEPER_CLASSPATH,
    env.ZOOKEEPER_HOME,
  ]);
  const reasons: string[] = [];
  const found = (installation: ZookeeperInstallation): Attempt => ({
    installation,
    javaMissing: false,
    zookeeperMissing: false,
    misconfigured: false,
    reasons,
  });
  const cached = cache.get(cacheKey);
  if (cached) return found(cached);

  const java = findJava(env, reasons);
  // An explicit setting is never silently replaced by the system packages: a wrong
  // ZOOKEEPER_HOME would otherwise go unnoticed until versions differ.
  let source: ZookeeperInstallation['source'] = 'system';
  let classpath: string | undefined;
  if (env.ZOOKEEPER_CLASSPATH) {
    source = 'ZOOKEEPER_CLASSPATH';
    classpath = env.ZOOKEEPER_CLASSPATH;
  } else if (env.ZOOKEEPER_HOME) {
    source = 'ZOOKEEPER_HOME';
    classpath = classpathFromHome(env.ZOOKEEPER_HOME, reasons);
  } else {
    classpath = classpathFromSystem(reasons);
  }
  const explicit = source !== 'system';
  const failed = (zookeeperMissing: boolean): Attempt => ({
    javaMissing: !java,
    zookeeperMissing,
    misconfigured: explicit && zookeeperMissing,
    reasons,
  });
  if (!classpath) return failed(true);
  if (!java) return failed(false);

  const version = zookeeperVersionOf(java.javaPath, classpath);
  if (!version) {
    reasons.push(
      `${source}: classpath does not load org.apache.zookeeper.Version (${classpath.slice(0, 300)})`,
    );
    return failed(true);
  }
  if (!isSupportedZookeeper(version)) {
    reasons.push(`${source}: ZooKeeper ${version}, need ${MIN_ZOOKEEPER.join('.')}+`);
    return failed(true);
  }
  const installation: ZookeeperInstallation = { ...java, classpath, version, source };
  cache.set(cacheKey, installation);
  return found(installation);
}

function notFoundError(result: Attempt, extra?: string): ZookeeperInstallationError {
  const missing = [
    result.javaMissing && `Java ${MIN_JAVA}+`,
    result.zookeeperMissing && `a ZooKeeper ${MIN_ZOOKEEPER.join('.')}+ server`,
  ]
    .filter(Boolean)
    .join(' and ');
  const lines = [
    `Cannot run ZooKeeper for the tests: ${missing || 'no usable installation'} not found.`,
    ...result.reasons.map((reason) => `  - ${reason}`),
    ...(extra ? [extra] : []),
    'Fix one of these ways:',
    `  - Debian/Ubuntu: sudo apt-get install ${APT_PACKAGES.join(' ')}   (or the 'zookeeper' package)`,
    '  - download Apache ZooKeeper 3.8+ (the -bin tarball) and set ZOOKEEPER_HOME to its directory',
    '  - set ZOOKEEPER_CLASSPATH to a classpath containing the ZooKeeper server and its dependencies',
    `  - set JAVA_HOME (or put java on PATH) for Java ${MIN_JAVA}+, e.g. apt-get install default-jre-headless`,
    '  - or set ZK_CONNECT=host:port to run the tests against an existing ZooKeeper ensemble',
  ];
  return new ZookeeperInstallationError(lines.join('\n'), result.reasons);
}

/** Finds Java and ZooKeeper without installing anything; throws `ZookeeperInstallationError`. */
export function findZookeeperInstallation(
  options: { env?: NodeJS.ProcessEnv } = {},
): ZookeeperInstallation {
  const result = attempt(options.env ?? process.env);
  if (result.installation) return result.installation;
  throw notFoundError(result);
}

/** @internal Runs an installer command, forwarding its output line by line (also used for Curator). */
export function runLogged(
  command: string,
  args: string[],
  log: (line: string) => void,
): Promise<void> {
  log(`$ ${command} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) log(`  ${line}`);
      });
      stream.on('end', () => pending.trim() && log(`  ${pending}`));
    }
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new ZookeeperTestingError(`${command} ${args.join(' ')} exited with code ${code}`),
          ),
    );
  });
}

/** @internal Why apt-get cannot install packages here, or undefined when it can. */
export function canInstallWithApt(): string | undefined {
  if (process.platform !== 'linux')
    return `automatic install needs Linux (this is ${process.platform})`;
  if (!existsSync('/etc/debian_version'))
    return 'automatic install needs Debian or Ubuntu (no /etc/debian_version)';
  if (process.getuid?.() !== 0)
    return 'automatic install needs root (run as root or install the packages yourself)';
  if (!whichSync('apt-get', { PATH: process.env.PATH ?? '/usr/bin:/bin' }))
    return 'automatic install needs apt-get';
  return undefined;
}

/**
 * Finds Java and ZooKeeper like `findZookeeperInstallation`; with `installIfMissing` and when
 * running as root on Debian/Ubuntu it installs what is missing with apt-get first.
 */
export async function locateZookeeper(
  options: LocateZookeeperOptions = {},
): Promise<ZookeeperInstallation> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const first = attempt(env);
  if (first.installation) return first.installation;
  if (!options.installIfMissing) throw notFoundError(first);

  if (first.misconfigured)
    throw notFoundError(first, 'Not installing anything: fix or unset the variable above.');
  const blocker = canInstallWithApt();
  if (blocker) throw notFoundError(first, `Not installing automatically: ${blocker}.`);
  // A found ZooKeeper with no Java only needs the JRE.
  const packages = first.zookeeperMissing ? APT_PACKAGES : ['default-jre-headless'];
  log(
    `ZooKeeper/Java not found; installing ${packages.join(' ')} with apt-get (this takes a minute or two)`,
  );
  try {
    await runLogged('apt-get', ['update'], log);
    await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...packages], log);
  } catch (error) {
    throw notFoundError(first, `Automatic install failed: ${(error as Error).message}.`);
  }
  const second = attempt(env);
  if (second.installation) return second.installation;
  throw notFoundError(second, `Still missing after installing ${packages.join(' ')}.`);
}
