import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectMessaging, QueueConsumer, ZookeeperMessaging } from 'nestjs-zookeeper';
import { Subscription } from 'rxjs';
import { DEMO_MESSAGING_OPTIONS, DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';

/**
 * Competes with the other clients for the shared jobs queue: each job is done by one client
 * (at-least-once: a client killed mid-job leaves it to another, which may repeat it).
 */
@Injectable()
export class JobWorkerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private consumer?: QueueConsumer<DemoMessage>;
  private doneCount = 0;
  private events?: Subscription;

  constructor(@InjectMessaging() private readonly messaging: ZookeeperMessaging) {}

  get done(): number {
    return this.doneCount;
  }

  async onApplicationBootstrap(): Promise<void> {
    const jobs = this.messaging.queue<DemoMessage>(DEMO_PATHS.jobs, DEMO_MESSAGING_OPTIONS.jobs);
    // Failures, dead letters and abandoned items would otherwise go unseen.
    this.events = jobs.events$.subscribe((event) => {
      this.logger.warn(`${DEMO_PATHS.jobs}: ${event.type} ${'item' in event ? event.item : ''}`);
    });
    this.consumer = await jobs.consume({ concurrency: 2 }, (job, context) => {
      this.doneCount++;
      this.logger.log(
        `done ${job.id} (${context.item}#${context.index}, attempt ${context.attempt})`,
      );
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.events?.unsubscribe();
    await this.consumer?.stop();
  }
}
