import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import {
  ConnectionState,
  CreateMode,
  InjectZookeeper,
  isConnectedState,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import {
  concatMap,
  filter,
  fromEvent,
  merge,
  of,
  Subject,
  Subscription,
  switchMap,
  take,
  tap,
} from 'rxjs';
import { encodeRegistration } from '../../shared/src/client-registration.js';
import { DEMO_PATHS } from '../../shared/src/demo-topology.js';
import type { DemoEnv } from '../../shared/src/demo-config.js';

const RETRY_DELAY_MS = 1000;

/**
 * Keeps exactly one ephemeral sequential node under /clients for this process: created once the
 * HTTP port is known (it goes into the node's data), and again whenever a new session replaced
 * the one that owned it.
 */
@Injectable()
export class RegistrationService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly name: string;
  private readonly logger = new Logger('Registration');
  private readonly startedAt = new Date().toISOString();
  private readonly retries = new Subject<void>();
  private registeredPath: string | undefined;
  private subscription: Subscription | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
    private readonly httpAdapterHost: HttpAdapterHost,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  /** The node this client is registered as, or undefined while it is not. */
  get path(): string | undefined {
    return this.registeredPath;
  }

  onApplicationBootstrap(): void {
    const server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
    const listening = server.listening ? of(server) : fromEvent(server, 'listening').pipe(take(1));
    const states = this.zk.state$.pipe(
      tap((state) => this.forgetExpired(state)),
      filter(isConnectedState),
    );
    this.subscription = listening
      .pipe(
        switchMap(() => merge(states, this.retries)),
        // One registration attempt at a time: two overlapping creates would leave two nodes.
        concatMap(() => this.ensureRegistered(server)),
      )
      .subscribe();
  }

  onModuleDestroy(): void {
    // The node itself goes with the session, which ZookeeperModule closes right after this.
    this.subscription?.unsubscribe();
    clearTimeout(this.retryTimer);
  }

  private forgetExpired(state: ConnectionState): void {
    if (state === ConnectionState.EXPIRED && this.registeredPath) {
      this.logger.warn(`session expired: ${this.registeredPath} is gone, re-registering next`);
      this.registeredPath = undefined;
    }
  }

  private async ensureRegistered(server: Server): Promise<void> {
    if (!isConnectedState(this.zk.state)) return;
    try {
      if (this.registeredPath && (await this.ownsNode(this.registeredPath))) return;
      const { port } = server.address() as AddressInfo;
      const data = encodeRegistration({
        name: this.name,
        pid: process.pid,
        port,
        startedAt: this.startedAt,
      });
      this.registeredPath = await this.zk.create(`${DEMO_PATHS.clients}/client-`, data, {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
        createParents: true,
      });
      this.logger.log(`registered '${this.name}' as ${this.registeredPath}`);
    } catch (error) {
      this.logger.warn(
        `registration failed (${(error as Error).message}); retrying in ${RETRY_DELAY_MS} ms`,
      );
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.retries.next(), RETRY_DELAY_MS);
    }
  }

  /**
   * A create whose session ended while it was retried may have landed in the old session: only a
   * node owned by the current session counts as a registration.
   */
  private async ownsNode(path: string): Promise<boolean> {
    const stat = await this.zk.exists(path);
    return stat !== undefined && stat.ephemeralOwner === this.zk.session.id;
  }
}
