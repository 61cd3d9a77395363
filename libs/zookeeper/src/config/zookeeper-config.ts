import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Logger, LoggerService } from '@nestjs/common';
import { Observable, Subject, Subscription } from 'rxjs';
import { validatePath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { SerialRunner } from '../internal/serial-runner.js';
import { sleep } from '../internal/sleep.js';
import { TreeCache } from '../watch/tree-cache.js';
import { ConfigUnavailableError, ConfigValidationError } from './config-errors.js';
import {
  ConfigLayer,
  configLayers,
  FlatValues,
  layerValues,
  loadYaml,
  sameValue,
  syncInPlace,
  valueAt,
  YamlModule,
} from './config-tree.js';
import { EffectiveValue, EffectiveValues, evaluate, ValueRules } from './config-values.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

/**
 * What `changes$` announces:
 * - `changed`: a key's value in effect changed (`newValue` undefined when the key was removed);
 *   `layer` is the layer it now comes from, `previousLayer` the one it came from.
 * - `rejected`: a change read from ZooKeeper failed the types, schema or `validate`; the previous
 *   value stays in effect. `key` is the layer's path when its document does not parse.
 */
export type ZookeeperConfigEvent =
  | {
      readonly type: 'changed';
      readonly key: string;
      readonly oldValue: unknown;
      readonly newValue: unknown;
      readonly layer?: string;
      readonly previousLayer?: string;
    }
  | {
      readonly type: 'rejected';
      readonly key: string;
      readonly value: unknown;
      readonly layer?: string;
      readonly problems: readonly string[];
    };

/** Where the configuration in effect was read from. */
export type ConfigSource = 'zookeeper' | 'snapshot';

interface SnapshotFile {
  version: 1;
  application: string;
  profiles: string[];
  root: string;
  writtenAt: string;
  values: Record<string, EffectiveValue>;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 15_000;
const RECONNECT_DELAY_MS = 1_000;

/**
 * Layered, typed, live configuration read from ZooKeeper: the layers `<root>/<app>,<profile>`,
 * `<root>/<app>`, `<root>/application,<profile>`, `<root>/application` (most specific first) are
 * each followed by a {@link TreeCache} (one persistent recursive watch per layer where the driver
 * has them), merged by key, converted and validated. `load()` resolves with the configuration
 * object (what `ConfigModule.forRoot({ load })` merges into ConfigService); later changes update
 * that object (and ConfigService, once bound by ZookeeperConfigModule) and are announced on
 * `changes$`.
 */
export class ZookeeperConfig {
  readonly changes$: Observable<ZookeeperConfigEvent>;
  readonly layers: readonly ConfigLayer[];
  readonly application: string;
  private readonly events = new Subject<ZookeeperConfigEvent>();
  private readonly logger: LoggerService;
  private readonly rules: ValueRules;
  private readonly startupTimeoutMs: number;
  private connection?: ZookeeperConnection;
  private caches = new Map<string, TreeCache>();
  private subscriptions: Subscription[] = [];
  private readonly layerFlat = new Map<string, FlatValues>();
  private applied: EffectiveValues = new Map();
  /** The configuration in effect; its identity never changes (it is what load() returned). */
  private readonly config: Record<string, unknown> = {};
  private readonly hosts = new Set<Record<string, unknown>>();
  private readonly lastRejected = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly runner: SerialRunner;
  private yaml?: YamlModule;
  private loading?: Promise<Record<string, unknown>>;
  private live = false;
  private closed = false;
  private snapshotWrites: Promise<void> = Promise.resolve();
  private currentSource: ConfigSource = 'zookeeper';

  constructor(private readonly options: ZookeeperConfigOptions) {
    const owner = 'zookeeperConfig';
    if (
      !options ||
      typeof options.application !== 'string' ||
      !/^[^/,]+$/.test(options.application)
    ) {
      throw new InvalidOptionsError(
        `${owner}: application must be a non-empty name without '/' or ',' (got ${JSON.stringify(options?.application)})`,
      );
    }
    if (!options.connection === !options.connectString) {
      throw new InvalidOptionsError(`${owner}: give either connectString or connection`);
    }
    const timeout = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 2 ** 31 - 1) {
      throw new InvalidOptionsError(
        `${owner}: startupTimeoutMs must be above 0 and at most 2147483647 (got ${timeout})`,
      );
    }
    const root = options.root ?? '/config';
    validatePath(root, owner);
    for (const profile of options.profiles ?? []) {
      if (!/^[^/]+$/.test(profile)) {
        throw new InvalidOptionsError(`${owner}: profile ${JSON.stringify(profile)} is not a name`);
      }
    }
    this.application = options.application;
    this.startupTimeoutMs = timeout;
    this.layers = configLayers(
      root,
      options.application,
      options.profiles ?? [],
      options.sharedContext ?? 'application',
      options.profileSeparator ?? ',',
    );
    this.rules = {
      types: options.types,
      validationSchema: options.validationSchema,
      validate: options.validate,
    };
    this.logger = options.logger ?? new Logger('ZookeeperConfig');
    this.changes$ = this.events.asObservable();
    this.runner = new SerialRunner(
      () => this.refresh(),
      (error) => this.logger.error(`configuration refresh failed: ${String(error)}`),
    );
  }

  /**
   * Reads and validates every layer (once; later calls share the result) and resolves with the
   * configuration object, which later changes update in place. Fails with ConfigValidationError
   * (every problem listed) or ConfigUnavailableError (ZooKeeper unreachable past
   * `startupTimeoutMs` and no snapshot).
   */
  load(): Promise<Record<string, unknown>> {
    this.loading ??= this.startup();
    return this.loading;
  }

  /** Where the configuration in effect came from: ZooKeeper, or the snapshot file until it answers. */
  get source(): ConfigSource {
    return this.currentSource;
  }

  /** The value in effect at a dotted key. */
  get<T = unknown>(key: string): T | undefined {
    return valueAt(this.config, key) as T | undefined;
  }

  /** The configuration in effect (the object load() returned, kept current). */
  values(): Readonly<Record<string, unknown>> {
    return this.config;
  }

  /** The layer each key in effect comes from. */
  origins(): ReadonlyMap<string, string> {
    return new Map([...this.applied].map(([key, { layer }]) => [key, layer]));
  }

  /**
   * Keeps the top-level keys this configuration put into `host` (ConfigService's merged
   * configuration) current: ZookeeperConfigModule binds it. Keys another source has since
   * replaced in `host` are left alone.
   */
  bindHost(host: Record<string, unknown>): void {
    this.hosts.add(host);
  }

  /** Resolves once every change seen so far has been applied or refused. */
  settled(): Promise<void> {
    return this.runner.idle();
  }

  /** Stops following changes, completes `changes$` and closes the config's own connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    await this.stopReading();
    await this.runner.idle().catch(() => undefined);
    await this.snapshotWrites;
    this.events.complete();
  }

  private async startup(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + this.startupTimeoutMs;
    this.yaml = await loadYaml();
    let failure: unknown;
    try {
      await this.readFromZookeeper(deadline);
    } catch (error) {
      if (error instanceof ConfigValidationError) {
        await this.stopReading();
        throw error;
      }
      failure = error;
    }
    if (failure === undefined) {
      const initial = this.merge();
      const evaluation = await evaluate(initial, this.rules);
      if (!evaluation.ok) {
        await this.stopReading();
        throw new ConfigValidationError(this.application, evaluation.problems);
      }
      this.install(initial, evaluation.config);
      this.writeSnapshot();
      this.goLive();
      return this.config;
    }
    const snapshot = await this.readSnapshot();
    const connectString = this.options.connection?.connectString ?? this.options.connectString!;
    if (!snapshot) {
      await this.stopReading();
      throw new ConfigUnavailableError(
        this.application,
        connectString,
        this.startupTimeoutMs,
        this.options.snapshotFile
          ? `no usable snapshot at ${this.options.snapshotFile}`
          : 'no snapshotFile configured',
        failure,
      );
    }
    const evaluation = await evaluate(snapshot.values, this.rules);
    if (!evaluation.ok) {
      await this.stopReading();
      throw new ConfigValidationError(this.application, evaluation.problems);
    }
    this.logger.warn(
      `ZooKeeper at '${connectString}' did not answer within ${this.startupTimeoutMs} ms: ` +
        `starting "${this.application}" from the snapshot of ${snapshot.writtenAt} ` +
        `(${this.options.snapshotFile}); the live configuration replaces it once ZooKeeper answers`,
    );
    this.currentSource = 'snapshot';
    this.install(snapshot.values, evaluation.config);
    if (this.options.live !== false) void this.catchUp();
    return this.config;
  }

  /** Connects (unless given a connection) and loads every layer's cache before `deadline`. */
  private async readFromZookeeper(deadline: number): Promise<void> {
    if (!this.connection) {
      if (this.options.connection) this.connection = this.options.connection;
      else await this.connectOwn(Math.max(1, deadline - Date.now()));
    }
    this.startCaches();
    await withDeadline(
      Promise.all([...this.caches.values()].map((cache) => cache.start())),
      deadline,
      'the layers were not read in time',
    );
    this.computeLayers(true);
  }

  private async connectOwn(timeoutMs: number): Promise<void> {
    const own = this.options.connectionOptions ?? {};
    const connection = new ZookeeperConnection({
      ...own,
      connectString: this.options.connectString!,
      connectTimeoutMs: Math.min(own.connectTimeoutMs ?? timeoutMs, timeoutMs),
      logger: own.logger ?? this.logger,
    });
    try {
      await connection.connect();
    } catch (error) {
      await connection.close();
      throw error;
    }
    if (this.closed) {
      await connection.close();
      throw new Error('closed');
    }
    this.connection = connection;
  }

  /** After a start from the snapshot: keeps trying ZooKeeper, then applies its tree. */
  private async catchUp(): Promise<void> {
    while (!this.closed) {
      try {
        if (!this.connection) await this.connectOwn(this.startupTimeoutMs);
        this.startCaches();
        await Promise.all([...this.caches.values()].map((cache) => cache.start()));
        if (this.closed) return;
        this.currentSource = 'zookeeper';
        this.logger.log(`ZooKeeper answered: "${this.application}" follows its live configuration`);
        for (const layer of this.layers) this.dirty.add(layer.name);
        this.goLive();
        return;
      } catch (error) {
        if (this.closed) return;
        this.logger.warn(`still no configuration from ZooKeeper: ${String(error)}`);
        await sleep(RECONNECT_DELAY_MS);
      }
    }
  }

  private startCaches(): void {
    if (this.caches.size > 0 || !this.connection) return;
    for (const layer of this.layers) {
      const cache = new TreeCache(this.connection, layer.path);
      this.caches.set(layer.name, cache);
      this.subscriptions.push(
        cache.events$.subscribe({
          next: (event) => {
            if (event.type === 'initialized') return;
            this.dirty.add(layer.name);
            if (this.live) this.runner.kick();
          },
          error: (error: unknown) =>
            this.logger.error(`layer ${layer.path} is no longer followed: ${String(error)}`),
        }),
      );
    }
  }

  private goLive(): void {
    if (this.closed) return;
    if (this.options.live === false) {
      void this.stopReading();
      return;
    }
    this.live = true;
    if (this.dirty.size > 0) this.runner.kick();
  }

  private async stopReading(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    const caches = [...this.caches.values()];
    this.caches.clear();
    await Promise.all(caches.map((cache) => cache.close().catch(() => undefined)));
    if (this.connection && !this.options.connection) await this.connection.close();
    this.connection = undefined;
  }

  /**
   * Reads the layers marked dirty (all of them with `all`) from their caches. At startup a
   * document that does not parse is a validation problem; later it is refused (the layer keeps
   * its previous values).
   */
  private computeLayers(all: boolean): void {
    const problems: string[] = [];
    const names = all ? this.layers.map((layer) => layer.name) : [...this.dirty];
    this.dirty.clear();
    for (const name of names) {
      const layer = this.layers.find((candidate) => candidate.name === name)!;
      const cache = this.caches.get(name);
      if (!cache) continue;
      const nodes = new Map<string, Buffer>();
      for (const [path, node] of cache.current()) nodes.set(path, node.data);
      try {
        this.layerFlat.set(name, layerValues(layer, nodes, this.yaml));
        this.lastRejected.delete(layer.path);
      } catch (error) {
        const problem = error instanceof Error ? error.message : String(error);
        if (all && !this.live) problems.push(problem);
        else this.reject(layer.path, nodes.get(layer.path)?.toString('utf8'), name, [problem]);
      }
    }
    if (problems.length > 0) throw new ConfigValidationError(this.application, problems);
  }

  /** Every key's value from its most specific layer. */
  private merge(): EffectiveValues {
    const merged: EffectiveValues = new Map();
    for (const layer of [...this.layers].reverse()) {
      for (const [key, value] of this.layerFlat.get(layer.name) ?? []) {
        merged.set(key, { value, layer: layer.name });
      }
    }
    return merged;
  }

  /** Applies what changed in ZooKeeper: all of it if valid, else each valid key alone. */
  private async refresh(): Promise<void> {
    if (!this.live || this.closed) return;
    this.computeLayers(false);
    const next = this.merge();
    const changed = [...new Set([...this.applied.keys(), ...next.keys()])].filter(
      (key) => !sameValue(this.applied.get(key)?.value, next.get(key)?.value),
    );
    // Same values from another layer: follow the origin silently.
    for (const [key, entry] of next) {
      const current = this.applied.get(key);
      if (current && current.layer !== entry.layer && sameValue(current.value, entry.value)) {
        this.applied.set(key, entry);
      }
    }
    if (changed.length === 0) return;
    const candidate = withChanges(this.applied, next, changed);
    const evaluation = await evaluate(candidate, this.rules);
    if (this.closed) return;
    if (evaluation.ok) return this.commit(candidate, evaluation.config, changed);
    let accepted = this.applied;
    let config: Record<string, unknown> | undefined;
    const acceptedKeys: string[] = [];
    for (const key of changed) {
      const trial = withChanges(accepted, next, [key]);
      const result = await evaluate(trial, this.rules);
      if (result.ok) {
        accepted = trial;
        config = result.config;
        acceptedKeys.push(key);
      } else {
        this.reject(key, next.get(key)?.value, next.get(key)?.layer, result.problems);
      }
    }
    if (this.closed) return;
    if (config) this.commit(accepted, config, acceptedKeys);
  }

  private reject(key: string, value: unknown, layer: string | undefined, problems: string[]): void {
    const fingerprint = JSON.stringify([value ?? null, layer ?? null]);
    if (this.lastRejected.get(key) === fingerprint) return;
    this.lastRejected.set(key, fingerprint);
    this.logger.warn(
      `refused the change of ${key}${layer ? ` in layer ${layer}` : ''}: ${problems.join('; ')}`,
    );
    this.events.next({ type: 'rejected', key, value, layer, problems });
  }

  private commit(values: EffectiveValues, config: Record<string, unknown>, keys: string[]): void {
    const before = keys.map((key) => ({
      key,
      oldValue: valueAt(this.config, key),
      previousLayer: this.applied.get(key)?.layer,
    }));
    this.install(values, config);
    for (const { key, oldValue, previousLayer } of before) {
      this.lastRejected.delete(key);
      this.events.next({
        type: 'changed',
        key,
        oldValue,
        newValue: valueAt(this.config, key),
        layer: values.get(key)?.layer,
        previousLayer,
      });
    }
    this.writeSnapshot();
  }

  /** Makes `config` the configuration in effect, in place, and in every bound host. */
  private install(values: EffectiveValues, config: Record<string, unknown>): void {
    const topKeys = new Set([...Object.keys(this.config), ...Object.keys(config)]);
    const owned = [...this.hosts].map((host) => ({
      host,
      keys: [...topKeys].filter((key) => host[key] === this.config[key]),
    }));
    syncInPlace(this.config, config);
    for (const { host, keys } of owned) {
      for (const key of keys) {
        if (key in this.config) host[key] = this.config[key];
        else delete host[key];
      }
    }
    this.applied = values;
  }

  private writeSnapshot(): void {
    const file = this.options.snapshotFile;
    if (!file) return;
    const snapshot: SnapshotFile = {
      version: 1,
      application: this.application,
      profiles: [...(this.options.profiles ?? [])],
      root: this.options.root ?? '/config',
      writtenAt: new Date().toISOString(),
      values: Object.fromEntries(this.applied),
    };
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    this.snapshotWrites = this.snapshotWrites.then(async () => {
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

  private async readSnapshot(): Promise<
    { values: EffectiveValues; writtenAt: string } | undefined
  > {
    const file = this.options.snapshotFile;
    if (!file) return undefined;
    try {
      const snapshot = JSON.parse(await readFile(file, 'utf8')) as SnapshotFile;
      const profiles = this.options.profiles ?? [];
      if (
        snapshot.version !== 1 ||
        snapshot.application !== this.application ||
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

function withChanges(
  base: EffectiveValues,
  next: EffectiveValues,
  keys: readonly string[],
): EffectiveValues {
  const result = new Map(base);
  for (const key of keys) {
    const entry = next.get(key);
    if (entry) result.set(key, entry);
    else result.delete(key);
  }
  return result;
}

async function withDeadline<T>(work: Promise<T>, deadline: number, reason: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(reason)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
