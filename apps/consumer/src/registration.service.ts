import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import { InjectZookeeper, PersistentEphemeralNode, ZookeeperConnection } from 'nestjs-zookeeper';
import { encodeRegistration } from '../../shared/src/client-registration.js';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';

/**
 * Registers this client as an ephemeral sequential node under /clients, once the HTTP port is
 * known (it goes into the node's data). The library's PersistentEphemeralNode keeps it there: the
 * node goes with the session (a crashed client leaves after the session timeout, a stopped one at
 * once) and is created again, under a new sequence number, in the next session.
 */
@Injectable()
export class RegistrationService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly name: string;
  private readonly logger = new Logger('Registration');
  private readonly startedAt = new Date().toISOString();
  private node?: PersistentEphemeralNode;

  constructor(
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
    private readonly httpAdapterHost: HttpAdapterHost,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  /** The node this client is registered as, or undefined while it is not. */
  get path(): string | undefined {
    return this.node?.path;
  }

  onApplicationBootstrap(): void {
    const server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
    if (server.listening) void this.register(server);
    else server.once('listening', () => void this.register(server));
  }

  async onModuleDestroy(): Promise<void> {
    await this.node?.close();
  }

  private async register(server: Server): Promise<void> {
    const { port } = server.address() as AddressInfo;
    const data = encodeRegistration({
      name: this.name,
      pid: process.pid,
      port,
      startedAt: this.startedAt,
    });
    this.node = new PersistentEphemeralNode(this.zk, `${DEMO_PATHS.clients}/client-`, data, {
      sequential: true,
      logger: this.logger,
    });
    try {
      this.logger.log(`registered '${this.name}' as ${await this.node.start()}`);
    } catch (error) {
      this.logger.error(`could not register: ${String(error)}`);
    }
  }
}
