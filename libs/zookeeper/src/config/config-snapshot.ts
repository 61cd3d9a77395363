import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LoggerService } from '@nestjs/common';
import { EffectiveValue, EffectiveValues } from './config-values.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

interface SnapshotFile {
  version: 1;
  application: string;
  profiles: string[];
  root: string;
  writtenAt: string;
  values: Record<string, EffectiveValue>;
}

/** A snapshot read back: the values in effect when it was written. */
export interface ConfigSnapshot {
  values: EffectiveValues;
  writtenAt: string;
}

/**
 * The `snapshotFile` of a configuration: the values in effect, written (atomically, one write
 * after the other) on every change, read when ZooKeeper does not answer at startup. Does nothing
 * without a `snapshotFile`.
 */
export class ConfigSnapshotFile {
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: ZookeeperConfigOptions,
    private readonly logger: LoggerService,
  ) {}

  /** Resolves once every write asked for so far is done (or failed, with a warning). */
  written(): Promise<void> {
    return this.writes;
  }

  write(values: EffectiveValues): void {
    const file = this.options.snapshotFile;
    if (!file) return;
    const snapshot: SnapshotFile = {
      version: 1,
      application: this.options.application,
      profiles: [...(this.options.profiles ?? [])],
      root: this.options.root ?? '/config',
      writtenAt: new Date().toISOString(),
      values: Object.fromEntries(values),
    };
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    this.writes = this.writes.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        await writeFile(temporary, text);
        await rename(temporary, file);
      } catch (error) {
        this.logger.warn(`could not write the configuration snapshot ${file}: ${String(error)}`);
      }
    });
  }

  /** The snapshot, unless missing, unreadable or of another application, root or profiles. */
  async read(): Promise<ConfigSnapshot | undefined> {
    const file = this.options.snapshotFile;
    if (!file) return undefined;
    try {
      const snapshot = JSON.parse(await readFile(file, 'utf8')) as SnapshotFile;
      const profiles = this.options.profiles ?? [];
      if (
        snapshot.version !== 1 ||
        snapshot.application !== this.options.application ||
        snapshot.root !== (this.options.root ?? '/config') ||
        JSON.stringify(snapshot.profiles) !== JSON.stringify(profiles)
      ) {
        this.logger.warn(`snapshot ${file} is of another application, root or profiles: ignored`);
        return undefined;
      }
      return { values: new Map(Object.entries(snapshot.values)), writtenAt: snapshot.writtenAt };
    } catch (error) {
      this.logger.warn(`no usable configuration snapshot at ${file}: ${String(error)}`);
      return undefined;
    }
  }
}
