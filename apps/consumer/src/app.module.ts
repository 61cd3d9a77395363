import { Module } from '@nestjs/common';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { ConsumerCounters } from './consumer-counters.service.js';
import { ConsumerStatsController } from './consumer-stats.controller.js';
import { JobWorkerController } from './job-worker.controller.js';
import { ReceiverController } from './receiver.controller.js';
import { RegistrationService } from './registration.service.js';
import { StatusController } from './status.controller.js';

/**
 * HTTP (GET /status, /health) and, once main.ts connected the transport (consumer-transport.ts),
 * the microservice handlers: the broadcast messages, the jobs queue and the stats requests.
 */
@Module({
  imports: [DemoCoreModule],
  providers: [RegistrationService, ConsumerCounters],
  controllers: [StatusController, ReceiverController, JobWorkerController, ConsumerStatsController],
})
export class AppModule {}
