import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getServerMode,
  isServerOk,
  pollUntil,
  type ZookeeperServerMode,
} from './four-letter-word.js';
import { getFreePorts } from './free-port.js';
import { readLogTail } from './java-process.js';
import { ZookeeperProcessHandle } from './zookeeper-process-handle.js';
import { findZookeeperInstallation, type ZookeeperInstallation } from './zookeeper-installation.js';
import {
  commonZooCfg,
  renderZooCfg,
  writeLoggingConfig,
  zookeeperJvmArgs,
  type ZookeeperJvmSettings,
} from './zookeeper-jvm-config.js';
import { launchZookeeperJvm } from './zookeeper-testing-server.js';
import {
  generateTestingTlsMaterial,
  isTlsHandshakeOk,
  normalizeTlsOption,
  tlsZooCfg,
  TESTING_TLS_SERVERNAME,
  type ZookeeperTestingTls,
  type ZookeeperTestingTlsMaterial,
  type ZookeeperTestingTlsOptions,
  type ZookeeperTlsClientAuth,
} from './zookeeper-testing-tls.js';
import { ZookeeperTestingError } from '../errors/library-errors.js';
import { dropUnwrittenLogs } from './unwritten-logs.js';

export interface ZookeeperTestingClusterOptions extends ZookeeperJvmSettings {
  /** Number of voting members. Default 3. */
  size?: number;
  /** Ticks a follower may take to connect and sync to a new leader. Default 50 (10 s at 200 ms). */
  initLimit?: number;
  /** Ticks a follower may lag before the leader drops it. Default 15 (3 s at 200 ms). */
  syncLimit?: number;
  /** Directory for all nodes' files; default a new temp dir that `close()` removes. */
  baseDir?: string;
  /** How long `start()` waits for the ensemble to elect a leader. Default 90000. */
  quorumTimeoutMs?: number;
  /**
   * Every node also listens on a TLS secure client port (the plain ports stay), all with one
   * generated CA and server certificate; see `cluster.tls` and `node.tls`. Quorum traffic stays
   * plain. `true` is `{ clientAuth: 'none' }`. Default off.
   */
  tls?: boolean | Pick<ZookeeperTestingTlsOptions, 'clientAuth'>;
}

/** @internal A cluster node's secure port and the cluster's certificates. */
interface NodeTls {
  port: number;
  clientAuth: ZookeeperTlsClientAuth;
  material: ZookeeperTestingTlsMaterial;
}

function describeTls(
  connectString: string,
  port: number,
  clientAuth: ZookeeperTlsClientAuth,
  material: ZookeeperTestingTlsMaterial,
): ZookeeperTestingTls {
  return {
    port,
    connectString,
    clientAuth,
    ca: material.ca,
    clientCert: material.clientCert,
    clientKey: material.clientKey,
    servername: TESTING_TLS_SERVERNAME,
  };
}

const SERVING: ReadonlySet<ZookeeperServerMode | undefined> = new Set([
  'leader',
  'follower',
  'observer',
]);

/** One `QuorumPeerMain` JVM of a `ZookeeperTestingCluster`. */
export class ZookeeperTestingClusterNode extends ZookeeperProcessHandle {
  /** @internal Created by `ZookeeperTestingCluster`. */
  constructor(
    /** The node's `myid`, 1-based. */
    readonly id: number,
    readonly port: number,
    readonly peerPort: number,
    readonly electionPort: number,
    readonly baseDir: string,
    private readonly installation: ZookeeperInstallation,
    private readonly args: string[],
    private readonly startTimeoutMs: number,
    private readonly tlsSettings?: NodeTls,
  ) {
    super();
  }

  /**
   * This node's secure client port and the PEMs a TLS client needs; set when the cluster was
   * started with `tls`, else it throws `ZookeeperTestingError`.
   */
  get tls(): ZookeeperTestingTls {
    const tls = this.tlsSettings;
    if (!tls)
      throw new ZookeeperTestingError(
        'ZookeeperTestingCluster was started without the tls option; pass { tls: true }',
      );
    return describeTls(`127.0.0.1:${tls.port}`, tls.port, tls.clientAuth, tls.material);
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  get logFile(): string {
    return join(this.baseDir, 'zookeeper.log');
  }

  get paused(): boolean {
    return this.jvm?.paused ?? false;
  }

  /**
   * Starts the JVM and resolves once its client port answers `ruok` (and with `tls`, once a TLS
   * handshake succeeds on its secure port); that is before it has joined a quorum (use
   * `waitUntilServing()` or the cluster's `waitForQuorum()`).
   */
  async start(): Promise<void> {
    if (this.running) return;
    await dropUnwrittenLogs(this.dataDir);
    this.jvm = await launchZookeeperJvm({
      installation: this.installation,
      args: this.args,
      logFile: this.logFile,
      cwd: this.baseDir,
      description: `ZooKeeper quorum peer ${this.id} on 127.0.0.1:${this.port}`,
      timeoutMs: this.startTimeoutMs,
      isReady: async () =>
        (await isServerOk('127.0.0.1', this.port)) &&
        (!this.tlsSettings ||
          (await isTlsHandshakeOk(this.tlsSettings.port, this.tlsSettings.material))),
    });
  }

  /** Stop, start with the same port and data, and wait until it serves again (needs a quorum). */
  async restart(timeoutMs = 60_000): Promise<void> {
    await this.stop();
    await this.start();
    await this.waitUntilServing(timeoutMs);
  }

  /** Leader/follower/observer per `srvr`, or `undefined` when down, paused or not in a quorum. */
  async mode(timeoutMs = 1_000): Promise<ZookeeperServerMode | undefined> {
    if (!this.running) return undefined;
    return getServerMode('127.0.0.1', this.port, timeoutMs);
  }

  async waitUntilServing(timeoutMs = 60_000): Promise<ZookeeperServerMode> {
    return pollUntil(
      async () => {
        const mode = await this.mode();
        return SERVING.has(mode) ? mode : undefined;
      },
      { timeoutMs, intervalMs: 200, description: `quorum peer ${this.id} to serve requests` },
    );
  }
}

/**
 * A real ZooKeeper ensemble of `QuorumPeerMain` JVMs on 127.0.0.1.
 *
 * `await ZookeeperTestingCluster.start(options)` starts all nodes in parallel and resolves once
 * they elected a leader. Always `await cluster.close()`. The JVMs never outlive Node.
 */
export class ZookeeperTestingCluster {
  private closed = false;

  private constructor(
    readonly nodes: readonly ZookeeperTestingClusterNode[],
    readonly baseDir: string,
    private readonly ownsBaseDir: boolean,
  ) {}

  static async start(
    options: ZookeeperTestingClusterOptions = {},
  ): Promise<ZookeeperTestingCluster> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1)
      throw new ZookeeperTestingError(`Cluster size must be a positive integer, got ${size}`);
    const installation = options.installation ?? findZookeeperInstallation();
    const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'nestjs-zk-cluster-')));
    const tls = normalizeTlsOption(options.tls);
    const ports = await getFreePorts(size * (tls ? 4 : 3));
    const ids = Array.from({ length: size }, (_, index) => index + 1);
    const serverLines = Object.fromEntries(
      ids.map((id) => [
        `server.${id}`,
        `127.0.0.1:${ports[(id - 1) * 3 + 1]}:${ports[(id - 1) * 3 + 2]}`,
      ]),
    );
    const logging = await writeLoggingConfig(baseDir, options.logLevel ?? 'INFO');
    const material = tls ? await generateTestingTlsMaterial(join(baseDir, 'tls')) : undefined;
    const settings: ZookeeperJvmSettings = {
      ...options,
      systemProperties: {
        // Election retries back off up to 60 s by default; nodes that start a few seconds apart
        // on a busy machine would then wait far longer than needed to find each other.
        'zookeeper.fle.maxNotificationInterval': '2000',
        'zookeeper.cnxTimeout': '2000',
        ...options.systemProperties,
      },
    };

    const nodes = await Promise.all(
      ids.map(async (id) => {
        const [port, peerPort, electionPort] = ports.slice((id - 1) * 3, id * 3) as [
          number,
          number,
          number,
        ];
        const nodeDir = join(baseDir, `node-${id}`);
        const dataDir = join(nodeDir, 'data');
        await mkdir(dataDir, { recursive: true });
        await writeFile(join(dataDir, 'myid'), `${id}\n`);
        const configFile = join(nodeDir, 'zoo.cfg');
        const nodeTls: NodeTls | undefined =
          tls && material
            ? { port: ports[size * 3 + id - 1]!, clientAuth: tls.clientAuth, material }
            : undefined;
        const config = {
          ...commonZooCfg(options, dataDir, port),
          ...(nodeTls ? tlsZooCfg(nodeTls.material, nodeTls.port, nodeTls.clientAuth) : {}),
          initLimit: options.initLimit ?? 50,
          syncLimit: options.syncLimit ?? 15,
          ...serverLines,
        };
        await writeFile(configFile, renderZooCfg(config, options.config));
        const args = zookeeperJvmArgs(
          installation,
          settings,
          logging,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          configFile,
        );
        return new ZookeeperTestingClusterNode(
          id,
          port,
          peerPort,
          electionPort,
          nodeDir,
          installation,
          args,
          options.startTimeoutMs ?? 30_000,
          nodeTls,
        );
      }),
    );

    const cluster = new ZookeeperTestingCluster(nodes, baseDir, !options.baseDir);
    try {
      await Promise.all(nodes.map((node) => node.start()));
      await cluster.waitForQuorum(options.quorumTimeoutMs ?? 90_000);
      return cluster;
    } catch (error) {
      const details = await cluster.describeNodes();
      // Files stay so the logs named in the message can be read.
      await Promise.all(nodes.map((node) => node.kill()));
      throw new ZookeeperTestingError(`${(error as Error).message}\n${details}`, error);
    }
  }

  /**
   * All nodes' secure client addresses and the PEMs a TLS client needs; set when the cluster was
   * started with `tls`, else it throws `ZookeeperTestingError`. `port` is the first node's.
   */
  get tls(): ZookeeperTestingTls {
    const first = this.nodes[0]!.tls;
    return { ...first, connectString: this.nodes.map((node) => node.tls.connectString).join(',') };
  }

  /** All client addresses, for a client that should fail over between nodes. */
  get connectString(): string {
    return this.nodes.map((node) => node.connectString).join(',');
  }

  node(id: number): ZookeeperTestingClusterNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (!node) throw new ZookeeperTestingError(`No node with id ${id}`);
    return node;
  }

  /** The node that reports `Mode: leader`, among running, unpaused nodes. */
  async leader(): Promise<ZookeeperTestingClusterNode | undefined> {
    const reachable = this.nodes.filter((node) => node.running && !node.paused);
    const modes = await Promise.all(reachable.map((node) => node.mode()));
    return reachable.find((_, index) => modes[index] === 'leader');
  }

  async followers(): Promise<ZookeeperTestingClusterNode[]> {
    const reachable = this.nodes.filter((node) => node.running && !node.paused);
    const modes = await Promise.all(reachable.map((node) => node.mode()));
    return reachable.filter((_, index) => modes[index] === 'follower');
  }

  /**
   * Waits until every running, unpaused node serves requests, they are a majority of the
   * ensemble, and exactly one of them leads. Resolves with the leader.
   */
  async waitForQuorum(timeoutMs = 60_000): Promise<ZookeeperTestingClusterNode> {
    const majority = Math.floor(this.nodes.length / 2) + 1;
    return pollUntil(
      async () => {
        const reachable = this.nodes.filter((node) => node.running && !node.paused);
        if (reachable.length < majority) return undefined;
        const modes = await Promise.all(reachable.map((node) => node.mode()));
        if (!modes.every((mode) => SERVING.has(mode))) return undefined;
        const leaders = reachable.filter((_, index) => modes[index] === 'leader');
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        description: `a ${this.nodes.length}-node ZooKeeper quorum with one leader`,
      },
    );
  }

  /** Stops all nodes and deletes the temp dir (not a caller-supplied `baseDir`). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Paused nodes would ignore SIGTERM, and a lone survivor has nothing to shut down cleanly.
    await Promise.all(this.nodes.map((node) => node.kill()));
    if (this.ownsBaseDir) await rm(this.baseDir, { recursive: true, force: true });
  }

  private async describeNodes(): Promise<string> {
    const parts = await Promise.all(
      this.nodes.map(async (node) => {
        const mode = await node.mode();
        const tail = await readLogTail(node.logFile, 12);
        return `node ${node.id} (${node.connectString}, ${node.running ? (mode ?? 'not serving') : 'not running'}), log ${node.logFile}:\n${tail}`;
      }),
    );
    return parts.join('\n');
  }
}
