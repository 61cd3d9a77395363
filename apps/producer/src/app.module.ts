import { Module } from '@nestjs/common';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { ClientsRegistry } from './clients-registry.service.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [DemoCoreModule],
  providers: [ClientsRegistry],
  controllers: [StatusController],
})
export class AppModule {}
