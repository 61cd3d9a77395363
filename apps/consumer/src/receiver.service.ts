import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMessaging, ZookeeperMessaging } from 'nestjs-zookeeper';
import { Subscription } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';

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
    const log = this.messaging.broadcast<DemoMessage>(DEMO_PATHS.messages);
    this.subscription = log.subscribe(this.subscriberId, { from: 'earliest' }).subscribe({
      next: (delivery) => {
        this.receivedCount++;
        this.last = delivery.offset;
        const { id, acceptedBy } = delivery.message;
        this.logger.log(`offset ${delivery.offset}: ${id} (accepted by ${acceptedBy})`);
        delivery.ack();
      },
      error: (error: unknown) => this.logger.error(`subscription failed: ${String(error)}`),
    });
    this.logger.log(`subscribed to ${DEMO_PATHS.messages} as '${this.subscriberId}'`);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
