import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ZookeeperContext } from 'nestjs-zookeeper/transport';
import { DEMO_PATTERNS, type DemoMessage } from '../../shared/src/demo-topology.js';
import { mono } from '../../shared/src/monotonic.js';
import { ConsumerCounters } from './consumer-counters.service.js';

/**
 * Competes with the other clients for the `jobs` pattern's work queue (the transport's queue
 * event): each job is done by one client, two items at a time here (at-least-once: a client
 * killed mid-job leaves it to another, which may repeat it; a job that keeps failing ends in the
 * queue's dead letters after the transport's default 5 attempts).
 */
@Controller()
export class JobWorkerController {
  private readonly logger = new Logger('Jobs');

  constructor(private readonly counters: ConsumerCounters) {}

  @EventPattern<string>(DEMO_PATTERNS.jobs, { concurrency: 2 })
  work(@Payload() job: DemoMessage, @Ctx() context: ZookeeperContext): void {
    this.counters.jobDone();
    const item = context.getPath().split('/').pop();
    // scripts/demo.ts counts the jobs done from these lines.
    this.logger.log(
      `done ${job.id} (${item}#${context.getIndex()}, attempt ${context.getAttempt()})${mono()}`,
    );
  }
}
