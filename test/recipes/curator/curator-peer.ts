import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LineProcess } from '../../support/line-process.js';
import { CuratorInstallation } from './curator-installation.js';

const SOURCE = 'test/recipes/curator/CuratorPeer.java';

/**
 * Compiles CuratorPeer.java once per source and classpath: the classes land in a directory of
 * the temp dir named by their hash, so later test files and runs reuse them. Compiling into a
 * fresh directory and renaming it keeps concurrent compilers from seeing half-written classes.
 */
export function compileCuratorPeer(curator: CuratorInstallation): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(curator.classpath).digest('hex');
  const classes = join(tmpdir(), `nestjs-zk-curator-peer-${hash.slice(0, 16)}`);
  if (existsSync(join(classes, 'CuratorPeer.class'))) return classes;
  const staging = mkdtempSync(join(tmpdir(), 'nestjs-zk-curator-peer-build-'));
  const result = spawnSync(
    curator.javacPath,
    ['-nowarn', '-cp', curator.classpath, '-d', staging, SOURCE],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`javac ${SOURCE} failed:\n${result.stdout}${result.stderr}`);
  }
  try {
    renameSync(staging, classes);
  } catch {
    // Another process got there first with the same classes.
    rmSync(staging, { recursive: true, force: true });
  }
  return classes;
}

/** Starts the peer; see CuratorPeer.java for the commands and the lines it prints. */
export function startCuratorPeer(
  curator: CuratorInstallation,
  classes: string,
  label: string,
  args: string[],
): LineProcess {
  return new LineProcess(label, curator.javaPath, [
    '-Xmx64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-cp',
    [classes, curator.classpath].join(delimiter),
    'CuratorPeer',
    ...args,
  ]);
}
