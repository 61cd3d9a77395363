import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { locateZookeeper, ZookeeperInstallationError } from 'nestjs-zookeeper/testing';
// Not from 'nestjs-zookeeper/testing': canInstallWithApt and runLogged are internal to the
// library's testing module (not exported). scripts/ensure-curator.ts runs this file under tsx
// too, which resolves the package name through tsconfig.json's paths, as Jest does through its
// moduleNameMapper.
import {
  canInstallWithApt,
  runLogged,
} from '../../../libs/zookeeper/src/testing/zookeeper-installation.js';

/** Java, javac and a classpath running Curator 5 (framework, recipes, discovery) with ZooKeeper. */
export interface CuratorInstallation {
  javaPath: string;
  javacPath: string;
  classpath: string;
  /** e.g. "5.4.0", from the jar's file name when it carries one. */
  curatorVersion?: string;
  source: 'CURATOR_CLASSPATH' | 'system';
}

export class CuratorInstallationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CuratorInstallationError';
  }
}

export interface LocateCuratorOptions {
  /** Install missing Debian packages with apt-get (root only). Default false. */
  installIfMissing?: boolean;
  log?: (line: string) => void;
}

const SYSTEM_JAR_DIR = '/usr/share/java';
// Debian 12 ships Curator 5.4.0 as one package per module, each jar also under an unversioned name.
const CURATOR_JARS = [
  'curator-client',
  'curator-framework',
  'curator-recipes',
  'curator-x-discovery',
];
// Guava for every module, Jackson for discovery's JSON instance serializer.
const DEPENDENCY_JARS = ['guava', 'jackson-core', 'jackson-databind', 'jackson-annotations'];
// failureaccess is a separate jar in some guava packagings; slf4j-nop keeps the peer quiet.
const OPTIONAL_JARS = ['failureaccess', 'slf4j-nop'];
const CURATOR_PACKAGES = [
  'libcurator-framework-java',
  'libcurator-recipes-java',
  'libcurator-discovery-java',
];
const JDK_PACKAGE = 'default-jdk-headless';

/**
 * Finds what the Curator interop tests need: the ZooKeeper client jars and Java through
 * `locateZookeeper` (installing them as the test setup does), javac, and Curator's jars from
 * CURATOR_CLASSPATH or Debian's packages, which it installs with apt-get when allowed.
 */
export async function locateCurator(
  options: LocateCuratorOptions = {},
): Promise<CuratorInstallation> {
  const log = options.log ?? (() => undefined);
  let zookeeper;
  try {
    zookeeper = await locateZookeeper({ installIfMissing: options.installIfMissing, log });
  } catch (error) {
    if (error instanceof ZookeeperInstallationError)
      throw new CuratorInstallationError(error.message);
    throw error;
  }
  const first = inspect(zookeeper.javaPath);
  if (first.missing.length === 0) return finish(zookeeper.javaPath, zookeeper.classpath, first);
  const blocker = options.installIfMissing ? canInstallWithApt() : 'installIfMissing is off';
  if (blocker || process.env.CURATOR_CLASSPATH) {
    throw notFound(
      first.missing,
      `not installing automatically: ${blocker ?? 'CURATOR_CLASSPATH is set'}`,
    );
  }
  const packages = [
    ...(first.javac ? [] : [JDK_PACKAGE]),
    ...(first.missing.some((item) => item !== 'javac') ? CURATOR_PACKAGES : []),
  ];
  log(`missing ${first.missing.join(', ')}; installing ${packages.join(' ')} with apt-get`);
  try {
    await runLogged('apt-get', ['update'], log);
    await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...packages], log);
  } catch (error) {
    throw notFound(first.missing, `automatic install failed: ${(error as Error).message}`);
  }
  const second = inspect(zookeeper.javaPath);
  if (second.missing.length > 0)
    throw notFound(second.missing, 'still missing after apt-get install');
  return finish(zookeeper.javaPath, zookeeper.classpath, second);
}

interface Inspection {
  javac?: string;
  jars: string[];
  missing: string[];
}

function inspect(javaPath: string): Inspection {
  const javac = findJavac(javaPath);
  const missing = javac ? [] : ['javac'];
  const explicit = process.env.CURATOR_CLASSPATH;
  if (explicit) return { javac, jars: explicit.split(delimiter).filter(Boolean), missing };
  const jars: string[] = [];
  for (const name of [...CURATOR_JARS, ...DEPENDENCY_JARS]) {
    const jar = join(SYSTEM_JAR_DIR, `${name}.jar`);
    if (existsSync(jar)) jars.push(jar);
    else missing.push(jar);
  }
  for (const name of OPTIONAL_JARS) {
    const jar = join(SYSTEM_JAR_DIR, `${name}.jar`);
    if (existsSync(jar)) jars.push(jar);
  }
  return { javac, jars, missing };
}

function finish(
  javaPath: string,
  zookeeperClasspath: string,
  found: Inspection,
): CuratorInstallation {
  // The ZooKeeper server's log4j binding would log to stderr; slf4j-nop replaces it when present.
  const quiet = found.jars.some((jar) => basename(jar) === 'slf4j-nop.jar');
  const zookeeperJars = zookeeperClasspath
    .split(delimiter)
    .filter((jar) => !(quiet && /slf4j-log4j12/.test(basename(jar))));
  return {
    javaPath,
    javacPath: found.javac!,
    classpath: [...found.jars, ...zookeeperJars].join(delimiter),
    curatorVersion: curatorVersion(found.jars),
    source: process.env.CURATOR_CLASSPATH ? 'CURATOR_CLASSPATH' : 'system',
  };
}

/** Debian keeps a versioned name (`curator-framework-5.4.0.jar`) beside the plain one. */
function curatorVersion(jars: string[]): string | undefined {
  const framework = jars.find((jar) => basename(jar).startsWith('curator-framework'));
  if (!framework) return undefined;
  const names = [basename(realpathSync(framework)), ...readdirSync(dirname(framework))];
  for (const name of names) {
    const match = /^curator-framework-(\d+\.\d+\.\d+)\.jar$/.exec(name);
    if (match) return match[1];
  }
  return undefined;
}

/** javac of the same JDK as `java` (through its symlinks), else the first one on PATH. */
function findJavac(javaPath: string): string | undefined {
  const sibling = join(dirname(realpathSync(javaPath)), 'javac');
  const candidates = [
    sibling,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'javac')),
  ];
  return candidates.find(
    (candidate) => existsSync(candidate) && spawnSync(candidate, ['-version']).status === 0,
  );
}

function notFound(missing: string[], why: string): CuratorInstallationError {
  return new CuratorInstallationError(
    [
      `Curator (Java) is not available: missing ${missing.join(', ')} (${why}).`,
      'Fix one of these ways:',
      `  - Debian/Ubuntu: sudo apt-get install ${[...CURATOR_PACKAGES, JDK_PACKAGE].join(' ')}`,
      '  - set CURATOR_CLASSPATH to the Curator 5 client, framework, recipes and discovery jars',
      '    with Guava and Jackson, and put a JDK (javac) on PATH',
    ].join('\n'),
  );
}
