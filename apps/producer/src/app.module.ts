import { Module } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { ClientsRegistry } from './clients-registry.service.js';
import { ConsumersClientModule } from './consumers-client.js';
import { DemoDashboardModule } from './dashboard.module.js';
import { GeneratorService } from './generator.service.js';
import { InboxPublisher } from './inbox-publisher.service.js';
import { JobsPublisher } from './jobs-publisher.service.js';
import { MasterService } from './master.service.js';
import { MessagesController } from './messages.controller.js';
import { RequestValidationPipe } from './request-validation.pipe.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [DemoCoreModule, ConsumersClientModule, DemoDashboardModule],
  providers: [
    ClientsRegistry,
    InboxPublisher,
    JobsPublisher,
    MasterService,
    GeneratorService,
    // Global through the module (not main.ts), so the tests that build this module validate too.
    { provide: APP_PIPE, useClass: RequestValidationPipe },
  ],
  controllers: [MessagesController, StatusController],
})
export class AppModule {}
