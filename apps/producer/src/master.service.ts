import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientProxy } from '@nestjs/microservices';
import {
  BroadcastLog,
  InjectMessaging,
  InjectRecipes,
  LeaderElection,
  LeaderInfo,
  LogStats,
  QueueConsumer,
  WorkQueue,
  ZookeeperMessaging,
  ZookeeperRecipes,
} from 'nestjs-zookeeper';
import { concatMap, lastValueFrom, Subscription } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import {
  DEMO_MESSAGING_OPTIONS,
  DEMO_PATHS,
  DEMO_PATTERNS,
  DEMO_TRANSPORT,
  DemoMessage,
} from '../../shared/src/demo-topology.js';
import { CONSUMERS } from './consumers-client.js';

/**
 * Every producer runs for master; the elected one relays the inbox work queue into the broadcast
 * log of the consumers' `messages` pattern, so exactly one instance appends at a time and the log
 * has one order. Leadership ends with the master's session (crash, SIGKILL, partition): a standby
 * wins the election after the session timeout and picks up the inbox where the old master's
 * progress says it stopped, so a message may be appended twice (at-least-once, counted as
 * duplicates by the demo), never dropped.
 *
 * The relay appends through the ClientZookeeper's `emit`, one message at a time, and finishes an
 * inbox message only once its emit completed, i.e. once it is durable in the log: a master killed
 * before that leaves the message to the next master. Through emit the log entries are the
 * transport's own packets (its serializer, the pattern as the consumers' servers read it), and the
 * pattern is declared broadcast in the client's options (demoClientOptions), so the relay never
 * depends on a consumer having declared it first.
 */
@Injectable()
export class MasterService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Master');
  private readonly election: LeaderElection;
  private readonly inbox: WorkQueue<DemoMessage>;
  /** Only counted here (logStats); appended to through the transport. */
  private readonly log: BroadcastLog<unknown>;
  private relay?: QueueConsumer<DemoMessage>;
  private subscription?: Subscription;
  private relayedCount = 0;
  private leaderInfo?: LeaderInfo;

  constructor(
    @InjectRecipes() recipes: ZookeeperRecipes,
    @InjectMessaging() messaging: ZookeeperMessaging,
    @Inject(CONSUMERS) private readonly consumers: ClientProxy,
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

  /** Messages this instance appended to the log while it was master. */
  get relayed(): number {
    return this.relayedCount;
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

  /**
   * A failed append is a ZooKeeper problem, not the message's: retried without limit (never
   * dead-lettered). If the relay cannot even start, this instance resigns so a standby can lead.
   */
  private async startRelay(): Promise<void> {
    this.logger.log(
      `elected master: relaying ${DEMO_PATHS.inbox} into ${DEMO_TRANSPORT.messagesLog}`,
    );
    try {
      this.relay = await this.inbox.consume(
        { concurrency: 1, maxAttempts: Number.MAX_SAFE_INTEGER, retryDelayMs: 500 },
        async (message) => {
          await lastValueFrom(this.consumers.emit(DEMO_PATTERNS.messages, message), {
            defaultValue: undefined,
          });
          this.relayedCount++;
        },
      );
    } catch (error) {
      this.logger.error(`could not start relaying, resigning: ${String(error)}`);
      await this.election.resign().catch(() => undefined);
    }
  }

  private async stopRelay(): Promise<void> {
    const relay = this.relay;
    if (!relay) return;
    this.relay = undefined;
    this.logger.warn('no longer master: stopped relaying');
    await relay.stop();
  }
}
