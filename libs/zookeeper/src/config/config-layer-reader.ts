import { LoggerService } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { TreeCache } from '../watch/tree-cache.js';
import { ConfigLayer, FlatValues, layerValues, loadYaml, YamlModule } from './config-tree.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

/** One layer read from its cache: its values are current unless its document did not parse. */
export interface LayerRead {
  layer: ConfigLayer;
  /** Why the layer's document was refused (its previous values stay). */
  problem?: string;
  /** The layer's own document, as text, when refused. */
  document?: string;
}

/**
 * Follows the configuration's layers in ZooKeeper: its connection (the given one or its own),
 * one {@link TreeCache} per layer, which layers changed since they were last read, and each
 * layer's values as last read.
 */
export class ConfigLayerReader {
  private yaml?: YamlModule;
  private connection?: ZookeeperConnection;
  private readonly caches = new Map<string, TreeCache>();
  private subscriptions: Subscription[] = [];
  private readonly dirty = new Set<string>();
  private readonly flat = new Map<string, FlatValues>();

  /**
   * @param changed called when a layer changed in ZooKeeper (it is then marked dirty)
   * @param closed whether the configuration was closed (a connection opened since is dropped)
   */
  constructor(
    private readonly layers: readonly ConfigLayer[],
    private readonly options: ZookeeperConfigOptions,
    private readonly logger: LoggerService,
    private readonly changed: () => void,
    private readonly closed: () => boolean,
  ) {}

  /** Each layer's values as last read, by layer name. */
  get layerValues(): ReadonlyMap<string, FlatValues> {
    return this.flat;
  }

  get hasDirtyLayers(): boolean {
    return this.dirty.size > 0;
  }

  /** Loads the YAML parser (when installed) the layers' documents are read with. */
  async loadParser(): Promise<void> {
    this.yaml = await loadYaml();
  }

  /** Uses the given connection, or opens its own within `timeoutMs`, unless connected already. */
  async connect(timeoutMs: number): Promise<void> {
    if (this.connection) return;
    if (this.options.connection) this.connection = this.options.connection;
    else await this.connectOwn(timeoutMs);
  }

  /** Starts following every layer and resolves once each cache is loaded. */
  async load(): Promise<void> {
    this.startCaches();
    await Promise.all([...this.caches.values()].map((cache) => cache.start()));
  }

  markAllDirty(): void {
    for (const layer of this.layers) this.dirty.add(layer.name);
  }

  /** Reads the layers marked dirty (all of them with `all`) from their caches, one at a time. */
  *read(all: boolean): Generator<LayerRead> {
    const names = all ? this.layers.map((layer) => layer.name) : [...this.dirty];
    this.dirty.clear();
    for (const name of names) {
      const layer = this.layers.find((candidate) => candidate.name === name)!;
      const cache = this.caches.get(name);
      if (!cache) continue;
      const nodes = new Map<string, Buffer>();
      for (const [path, node] of cache.current()) nodes.set(path, node.data);
      let refused: LayerRead | undefined;
      try {
        this.flat.set(name, layerValues(layer, nodes, this.yaml));
      } catch (error) {
        const problem = error instanceof Error ? error.message : String(error);
        refused = { layer, problem, document: nodes.get(layer.path)?.toString('utf8') };
      }
      yield refused ?? { layer };
    }
  }

  /** Stops following the layers and closes its own connection. */
  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    const caches = [...this.caches.values()];
    this.caches.clear();
    await Promise.all(caches.map((cache) => cache.close().catch(() => undefined)));
    if (this.connection && !this.options.connection) await this.connection.close();
    this.connection = undefined;
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
    if (this.closed()) {
      // close() came while connecting: load() fails with ConfigUnavailableError caused by this.
      await connection.close();
      throw new ConnectionClosedError({ operation: 'ZookeeperConfig.load' });
    }
    this.connection = connection;
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
            this.changed();
          },
          error: (error: unknown) =>
            this.logger.error(`layer ${layer.path} is no longer followed: ${String(error)}`),
        }),
      );
    }
  }
}
