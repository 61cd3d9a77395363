import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientProxy } from '@nestjs/microservices';
import { InjectMessaging, WorkQueue, ZookeeperMessaging } from 'nestjs-zookeeper';
import { lastValueFrom } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import {
  DEMO_MESSAGING_OPTIONS,
  DEMO_PATTERNS,
  DEMO_TRANSPORT,
  DemoMessage,
} from '../../shared/src/demo-topology.js';
import { acceptedMessage } from './accepted-message.js';
import { CONSUMERS } from './consumers-client.js';
import type { MessageRequestDto } from './message-request.dto.js';

/**
 * Emits jobs to the consumers' `jobs` pattern through the ClientZookeeper (no master involved):
 * the transport puts each one in the pattern's work queue, and one consumer does it. Durable once
 * `publish` resolves (emit completes when the job is stored).
 */
@Injectable()
export class JobsPublisher {
  private readonly jobs: WorkQueue<unknown>;
  private readonly name: string;

  constructor(
    @Inject(CONSUMERS) private readonly consumers: ClientProxy,
    @InjectMessaging() messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
  ) {
    // Only counted here (pendingItems); written through the transport.
    this.jobs = messaging.queue(DEMO_TRANSPORT.jobsQueue, DEMO_MESSAGING_OPTIONS.jobs);
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  async publish(request: MessageRequestDto): Promise<DemoMessage> {
    const job = acceptedMessage(request, this.name);
    await lastValueFrom(this.consumers.emit(DEMO_PATTERNS.jobs, job), { defaultValue: undefined });
    return job;
  }

  /** Items (batches of jobs) waiting in the jobs queue. */
  pendingItems(): Promise<number> {
    return this.jobs.pendingItems();
  }
}
