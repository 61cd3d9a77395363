import { Module } from '@nestjs/common';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { ClientsRegistry } from './clients-registry.service.js';
import { GeneratorService } from './generator.service.js';
import { InboxService } from './inbox.service.js';
import { MasterService } from './master.service.js';
import { MessagesController } from './messages.controller.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [DemoCoreModule],
  providers: [ClientsRegistry, InboxService, MasterService, GeneratorService],
  controllers: [MessagesController, StatusController],
})
export class AppModule {}
