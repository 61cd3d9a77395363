import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMessaging, WorkQueue, ZookeeperMessaging } from 'nestjs-zookeeper';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_MESSAGING_OPTIONS, DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';
import { acceptedMessage } from './accepted-message.js';
import type { MessageRequestDto } from './message-request.dto.js';

/**
 * Puts jobs straight into the consumers' shared work queue (no master involved): each job is done
 * by one consumer, durable once `publish` resolves.
 */
@Injectable()
export class JobsPublisher {
  private readonly jobs: WorkQueue<DemoMessage>;
  private readonly name: string;

  constructor(
    @InjectMessaging() messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.jobs = messaging.queue<DemoMessage>(DEMO_PATHS.jobs, DEMO_MESSAGING_OPTIONS.jobs);
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  async publish(request: MessageRequestDto): Promise<DemoMessage> {
    const job = acceptedMessage(request, this.name);
    await this.jobs.publish(job);
    return job;
  }

  /** Items (batches of jobs) waiting in the jobs queue. */
  pendingItems(): Promise<number> {
    return this.jobs.pendingItems();
  }
}
