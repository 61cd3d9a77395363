import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ZookeeperContext } from 'nestjs-zookeeper/transport';
import { DEMO_PATTERNS, type DemoMessage } from '../../shared/src/demo-topology.js';
import { mono } from '../../shared/src/monotonic.js';
import { ConsumerCounters } from './consumer-counters.service.js';

/** Jobs done at once unless the live `jobs.concurrency` says otherwise (jobs-concurrency.ts). */
export const JOBS_CONCURRENCY = 2;
/** How long a job works: long enough for jobs to overlap, so that the concurrency shows. */
const JOB_WORK_MS = 150;

/**
 * Competes with the other clients for the `jobs` pattern's work queue (the transport's queue
 * event): each job is done by one client, JOBS_CONCURRENCY items at a time unless the live
 * `jobs.concurrency` setting changes it (at-least-once: a client
 * killed mid-job leaves it to another, which may repeat it; a job that keeps failing ends in the
 * queue's dead letters after the transport's default 5 attempts).
 */
@Controller()
export class JobWorkerController {
  private readonly logger = new Logger('Jobs');

  constructor(private readonly counters: ConsumerCounters) {}

  @EventPattern<string>(DEMO_PATTERNS.jobs, { concurrency: JOBS_CONCURRENCY })
  async work(@Payload() job: DemoMessage, @Ctx() context: ZookeeperContext): Promise<void> {
    // Jobs running at this one's start, itself included: their peak is the concurrency reached.
    const concurrent = this.counters.jobStarted();
    try {
      await new Promise((resolve) => setTimeout(resolve, JOB_WORK_MS));
    } finally {
      this.counters.jobEnded();
    }
    this.counters.jobDone();
    const item = context.getPath().split('/').pop();
    // scripts/demo.ts counts the jobs done (and their peak concurrency) from these lines.
    this.logger.log(
      `done ${job.id} (${item}#${context.getIndex()}, attempt ${context.getAttempt()}, ${concurrent} concurrent)${mono()}`,
    );
  }
}
