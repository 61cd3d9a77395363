import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  BroadcastLog,
  InjectMessaging,
  InjectRecipes,
  LeaderElection,
  LeaderInfo,
  LogStats,
  WorkQueue,
  ZookeeperMessaging,
  ZookeeperRecipes,
} from 'nestjs-zookeeper';
import type { ClientZookeeper } from 'nestjs-zookeeper/transport';
import { concatMap, Subscription } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import {
  DEMO_MESSAGING_OPTIONS,
  DEMO_PATHS,
  DEMO_TRANSPORT,
  DemoMessage,
} from '../../shared/src/demo-topology.js';
import { mono } from '../../shared/src/monotonic.js';
import { CONSUMERS } from './consumers-client.js';
import { InboxRelay, startEmittingRelay, startFencedRelay } from './inbox-relay.js';

/**
 * Every producer runs for master; the elected one relays the inbox work queue into the broadcast
 * log of the consumers' `messages` pattern, so exactly one instance appends at a time and the log
 * has one order. Leadership ends with the master's session (crash, SIGKILL, partition): a standby
 * wins the election after the session timeout and relays what is left in the inbox.
 *
 * On the wire driver the relay is the transport's fenced relay (ClientZookeeper.relay): whole
 * inbox batches into whole log batches, one transaction per step that checks this master's
 * election node, appends and deletes what it relayed, so every message is in the log exactly once
 * across master crashes, and a master that lost its session (or was paused past it) appends
 * nothing. Through the transport the log entries are its own event packets, and the pattern is
 * declared broadcast in the client's options (demoClientOptions), so the relay never depends on a
 * consumer having declared it first. On the native driver (no transactions) the relay consumes the
 * inbox and emits each message: at-least-once, a master crash may append a message twice.
 * While it relays (wire driver), the POSTs this instance accepts skip the inbox: `directAppend`
 * puts each straight into the log through the same fenced steps (InboxPublisher).
 */
@Injectable()
export class MasterService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Master');
  private readonly election: LeaderElection;
  private readonly inbox: WorkQueue<DemoMessage>;
  /** Only counted here (logStats); appended to through the transport. */
  private readonly log: BroadcastLog<unknown>;
  private relay?: InboxRelay;
  private subscription?: Subscription;
  /** Relayed by the relays of earlier terms. */
  private relayedBefore = 0;
  private leaderInfo?: LeaderInfo;

  constructor(
    @InjectRecipes() recipes: ZookeeperRecipes,
    @InjectMessaging() messaging: ZookeeperMessaging,
    @Inject(CONSUMERS) private readonly consumers: ClientZookeeper,
    config: ConfigService<DemoEnv, true>,
  ) {
    const participantId = config.get('INSTANCE_NAME', { infer: true });
    this.election = recipes.leaderElection(DEMO_PATHS.master, { participantId });
    this.inbox = messaging.queue<DemoMessage>(DEMO_PATHS.inbox, DEMO_MESSAGING_OPTIONS.inbox);
    this.log = messaging.broadcast(DEMO_TRANSPORT.messagesLog, DEMO_MESSAGING_OPTIONS.messages);
  }

  /** Whether this instance is the master now. */
  get isMaster(): boolean {
    return this.election.isLeader;
  }

  /** The current master's instance name, as this instance last saw it. */
  get currentMaster(): string | null {
    return this.leaderInfo?.id ?? null;
  }

  /**
   * While this instance is master on a driver with transactions: appends a message it accepted
   * straight to the log, fenced by its election node (InboxPublisher falls back to the inbox).
   */
  get directAppend(): ((message: DemoMessage) => Promise<void>) | undefined {
    const relay = this.relay;
    return relay?.append && ((message) => relay.append!(message));
  }

  /** Messages this instance appended to the log while it was master. */
  get relayed(): number {
    return this.relayedBefore + (this.relay?.relayed ?? 0);
  }

  /** What the broadcast log holds now (retention deletes what every client committed). */
  logStats(): Promise<LogStats> {
    return this.log.stats();
  }

  onApplicationBootstrap(): void {
    this.subscription = this.election.isLeader$
      .pipe(concatMap((leads) => (leads ? this.startRelay() : this.stopRelay())))
      .subscribe();
    this.subscription.add(this.election.leader$.subscribe((leader) => (this.leaderInfo = leader)));
    this.subscription.add(
      this.inbox.events$.subscribe((event) => {
        if (event.type === 'handler-failed') {
          this.logger.warn(
            `appending ${event.item}#${event.index} failed, retrying: ${String(event.error)}`,
          );
        } else if (event.type !== 'item-abandoned') {
          this.logger.error(`inbox: ${event.type}: ${String('error' in event ? event.error : '')}`);
        }
      }),
    );
    void this.election.start().catch((error: unknown) => {
      this.logger.error(`could not enter the election: ${String(error)}`);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.stopRelay();
  }

  /** If the relay cannot even start, this instance resigns so a standby can lead. */
  private async startRelay(): Promise<void> {
    const fenced = this.inbox.connection.capabilities.multi;
    this.logger.log(
      `elected master: relaying ${DEMO_PATHS.inbox} into ${DEMO_TRANSPORT.messagesLog} ` +
        (fenced ? '(fenced, exactly once)' : '(no transactions on this driver: at-least-once)') +
        ` term ${this.election.fencingToken?.czxid ?? '?'}${mono()}`,
    );
    try {
      this.relay = fenced
        ? await startFencedRelay(this.consumers, this.inbox, this.election, this.logger)
        : await startEmittingRelay(this.consumers, this.inbox);
    } catch (error) {
      this.logger.error(`could not start relaying, resigning: ${String(error)}`);
      await this.election.resign().catch(() => undefined);
    }
  }

  private async stopRelay(): Promise<void> {
    const relay = this.relay;
    if (!relay) return;
    this.relay = undefined;
    this.logger.warn(`no longer master: stopped relaying${mono()}`);
    await relay.stop();
    this.relayedBefore += relay.relayed;
  }
}
