import { Logger, LoggerService } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { SerialRunner } from '../internal/serial-runner.js';
import { sleep } from '../internal/sleep.js';
import { ConfigUnavailableError, ConfigValidationError } from './config-errors.js';
import { ConfigSource, ZookeeperConfigEvent } from './config-events.js';
import { ConfigLayerReader } from './config-layer-reader.js';
import { mergeLayers, withChanges } from './config-merge.js';
import { checkConfigOptions } from './config-options-check.js';
import { ConfigSnapshotFile } from './config-snapshot.js';
import { ConfigLayer, sameValue, syncInPlace, valueAt } from './config-tree.js';
import { EffectiveValues, evaluate, ValueRules } from './config-values.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

export type { ConfigSource, ZookeeperConfigEvent } from './config-events.js';

const RECONNECT_DELAY_MS = 1_000;

/**
 * Layered, typed, live configuration read from ZooKeeper: the layers `<root>/<app>,<profile>`,
 * `<root>/<app>`, `<root>/application,<profile>`, `<root>/application` (most specific first) are
 * each followed by a TreeCache (one persistent recursive watch per layer where the driver
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
  private readonly reader: ConfigLayerReader;
  private readonly snapshot: ConfigSnapshotFile;
  private applied: EffectiveValues = new Map();
  /** The configuration in effect; its identity never changes (it is what load() returned). */
  private readonly config: Record<string, unknown> = {};
  private readonly hosts = new Set<Record<string, unknown>>();
  private readonly lastRejected = new Map<string, string>();
  private readonly runner: SerialRunner;
  private loading?: Promise<Record<string, unknown>>;
  private live = false;
  private closed = false;
  private currentSource: ConfigSource = 'zookeeper';

  constructor(private readonly options: ZookeeperConfigOptions) {
    const { startupTimeoutMs, layers } = checkConfigOptions(options);
    this.application = options.application;
    this.startupTimeoutMs = startupTimeoutMs;
    this.layers = layers;
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
    this.reader = new ConfigLayerReader(
      this.layers,
      options,
      this.logger,
      () => {
        if (this.live) this.runner.kick();
      },
      () => this.closed,
    );
    this.snapshot = new ConfigSnapshotFile(options, this.logger);
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
    await this.reader.stop();
    await this.runner.idle().catch(() => undefined);
    await this.snapshot.written();
    this.events.complete();
  }

  private async startup(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + this.startupTimeoutMs;
    await this.reader.loadParser();
    let failure: unknown;
    try {
      await this.readFromZookeeper(deadline);
    } catch (error) {
      if (error instanceof ConfigValidationError) {
        await this.reader.stop();
        throw error;
      }
      failure = error;
    }
    if (failure === undefined) {
      const initial = mergeLayers(this.layers, this.reader.layerValues);
      const evaluation = await evaluate(initial, this.rules);
      if (!evaluation.ok) {
        await this.reader.stop();
        throw new ConfigValidationError(this.application, evaluation.problems);
      }
      this.install(initial, evaluation.config);
      this.snapshot.write(this.applied);
      this.goLive();
      return this.config;
    }
    const snapshot = await this.snapshot.read();
    const connectString = this.options.connection?.connectString ?? this.options.connectString!;
    if (!snapshot) {
      await this.reader.stop();
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
      await this.reader.stop();
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
    await this.reader.connect(Math.max(1, deadline - Date.now()));
    await withDeadline(this.reader.load(), deadline, 'the layers were not read in time');
    this.computeLayers(true);
  }

  /** After a start from the snapshot: keeps trying ZooKeeper, then applies its tree. */
  private async catchUp(): Promise<void> {
    while (!this.closed) {
      try {
        await this.reader.connect(this.startupTimeoutMs);
        await this.reader.load();
        if (this.closed) return;
        this.currentSource = 'zookeeper';
        this.logger.log(`ZooKeeper answered: "${this.application}" follows its live configuration`);
        this.reader.markAllDirty();
        this.goLive();
        return;
      } catch (error) {
        if (this.closed) return;
        this.logger.warn(`still no configuration from ZooKeeper: ${String(error)}`);
        await sleep(RECONNECT_DELAY_MS);
      }
    }
  }

  private goLive(): void {
    if (this.closed) return;
    if (this.options.live === false) {
      void this.reader.stop();
      return;
    }
    this.live = true;
    if (this.reader.hasDirtyLayers) this.runner.kick();
  }

  /**
   * Reads the layers marked dirty (all of them with `all`). At startup a document that does not
   * parse is a validation problem; later it is refused (the layer keeps its previous values).
   */
  private computeLayers(all: boolean): void {
    const problems: string[] = [];
    for (const { layer, problem, document } of this.reader.read(all)) {
      if (problem === undefined) this.lastRejected.delete(layer.path);
      else if (all && !this.live) problems.push(problem);
      else this.reject(layer.path, document, layer.name, [problem]);
    }
    if (problems.length > 0) throw new ConfigValidationError(this.application, problems);
  }

  /** Applies what changed in ZooKeeper: all of it if valid, else each valid key alone. */
  private async refresh(): Promise<void> {
    if (!this.live || this.closed) return;
    this.computeLayers(false);
    const next = mergeLayers(this.layers, this.reader.layerValues);
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
    this.snapshot.write(this.applied);
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
