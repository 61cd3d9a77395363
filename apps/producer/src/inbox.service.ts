import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMessaging, WorkQueue, ZookeeperMessaging } from 'nestjs-zookeeper';
import { randomUUID } from 'node:crypto';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';
import type { MessageRequest } from './message-request.js';

/**
 * Accepts messages on any producer instance: they go into the inbox work queue, durable once
 * `accept` resolves, and the master (whichever instance it is now or later) relays them to the log.
 * Jobs go straight into the consumers' shared work queue.
 */
@Injectable()
export class InboxService {
  readonly inbox: WorkQueue<DemoMessage>;
  readonly jobs: WorkQueue<DemoMessage>;
  private readonly name: string;

  constructor(
    @InjectMessaging() messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.inbox = messaging.queue<DemoMessage>(DEMO_PATHS.inbox);
    this.jobs = messaging.queue<DemoMessage>(DEMO_PATHS.jobs);
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  async accept(request: MessageRequest): Promise<DemoMessage> {
    const message = this.stamp(request);
    await this.inbox.publish(message);
    return message;
  }

  async acceptJob(request: MessageRequest): Promise<DemoMessage> {
    const job = this.stamp(request);
    await this.jobs.publish(job);
    return job;
  }

  private stamp(request: MessageRequest): DemoMessage {
    return {
      id: request.id ?? randomUUID(),
      text: request.text,
      acceptedBy: this.name,
      acceptedAt: new Date().toISOString(),
    };
  }
}
