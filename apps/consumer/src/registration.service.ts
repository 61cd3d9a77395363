import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import { InjectRecipes, MembershipHandle, ZookeeperRecipes } from 'nestjs-zookeeper';
import type { ClientRegistration } from '../../shared/src/client-registration.js';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';

/**
 * Joins the group /clients with the library's Membership recipe, once the HTTP port is known (it
 * goes into the member's data). The member node is ephemeral: it goes with the session (a crashed
 * client leaves after the session timeout, a stopped one at once) and the recipe joins again,
 * under a new sequence number, in the next session.
 */
@Injectable()
export class RegistrationService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly name: string;
  private readonly logger = new Logger('Registration');
  private readonly startedAt = new Date().toISOString();
  private member?: MembershipHandle;

  constructor(
    @InjectRecipes() private readonly recipes: ZookeeperRecipes,
    private readonly httpAdapterHost: HttpAdapterHost,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  /**
   * The member node this client joined as, or undefined until it has joined. After a session
   * expiry it is the node of the last session until the recipe has joined again.
   */
  get path(): string | undefined {
    return this.member?.path;
  }

  onApplicationBootstrap(): void {
    const server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
    if (server.listening) void this.register(server);
    else server.once('listening', () => void this.register(server));
  }

  async onModuleDestroy(): Promise<void> {
    await this.member?.leave();
  }

  private async register(server: Server): Promise<void> {
    const { port } = server.address() as AddressInfo;
    const registration: ClientRegistration = {
      name: this.name,
      pid: process.pid,
      port,
      startedAt: this.startedAt,
    };
    try {
      const member = await this.recipes.membership().join(DEMO_PATHS.clients, registration);
      this.member = member;
      this.logger.log(`registered '${this.name}' as ${member.path}`);
    } catch (error) {
      this.logger.error(`could not register: ${String(error)}`);
    }
  }
}
