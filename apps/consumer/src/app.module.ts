import { Module } from '@nestjs/common';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { JobWorkerService } from './job-worker.service.js';
import { ReceiverService } from './receiver.service.js';
import { RegistrationService } from './registration.service.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [DemoCoreModule],
  providers: [RegistrationService, ReceiverService, JobWorkerService],
  controllers: [StatusController],
})
export class AppModule {}
