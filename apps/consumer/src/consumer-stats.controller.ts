import { Controller } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagePattern } from '@nestjs/microservices';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_PATTERNS, type ConsumerStats } from '../../shared/src/demo-topology.js';
import { ConsumerCounters } from './consumer-counters.service.js';

/**
 * Answers the producers' `consumer-stats` requests (the transport's request/response): one
 * consumer, whichever takes the request from the pattern's request queue, replies with its counts.
 */
@Controller()
export class ConsumerStatsController {
  private readonly name: string;

  constructor(
    private readonly counters: ConsumerCounters,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  @MessagePattern(DEMO_PATTERNS.consumerStats)
  stats(): ConsumerStats {
    return {
      name: this.name,
      pid: process.pid,
      received: this.counters.received,
      jobsDone: this.counters.jobsDone,
    };
  }
}
