import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMessaging, ZookeeperMessaging } from 'nestjs-zookeeper';
import { retry, Subscription, timer } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_MESSAGING_OPTIONS, DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';

/**
 * This client's subscription to the master's broadcast log, under its durable subscriber id
 * (INSTANCE_NAME): every message in log order, each logged with its offset and then acked. The
 * committed offset lives in ZooKeeper, so a restarted client resumes right after it; messages
 * acked but not yet committed when the process died come again (the demo counts them as
 * duplicates).
 */
@Injectable()
export class ReceiverService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Receiver');
  private readonly subscriberId: string;
  private subscription?: Subscription;
  private receivedCount = 0;
  private last?: number;

  constructor(
    @InjectMessaging() private readonly messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.subscriberId = config.get('INSTANCE_NAME', { infer: true });
  }

  /** Messages this process received, and the offset of the last one. */
  get received(): { count: number; lastOffset: number | null } {
    return { count: this.receivedCount, lastOffset: this.last ?? null };
  }

  onApplicationBootstrap(): void {
    const log = this.messaging.broadcast<DemoMessage>(
      DEMO_PATHS.messages,
      DEMO_MESSAGING_OPTIONS.messages,
    );
    this.subscription = log.events$.subscribe((event) => {
      if (event.type === 'registered' && event.subscriberId === this.subscriberId) {
        this.logger.log(`subscribed to ${DEMO_PATHS.messages} as '${this.subscriberId}'`);
      } else if (event.type !== 'registered') {
        this.logger.warn(`${DEMO_PATHS.messages}: ${JSON.stringify(event)}`);
      }
    });
    this.subscription.add(
      log
        .deliveries(this.subscriberId, { from: 'earliest' })
        .pipe(
          // A failed subscription (e.g. an error other than a connection problem) starts again
          // from the committed offset rather than leaving a healthy-looking client that hears nothing.
          retry({
            delay: (error: unknown) => {
              this.logger.error(`subscription failed, resubscribing in 1 s: ${String(error)}`);
              return timer(1000);
            },
          }),
        )
        .subscribe((delivery) => {
          this.receivedCount++;
          this.last = delivery.offset;
          const { id, acceptedBy } = delivery.message;
          this.logger.log(`offset ${delivery.offset}: ${id} (accepted by ${acceptedBy})`);
          delivery.ack();
        }),
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
