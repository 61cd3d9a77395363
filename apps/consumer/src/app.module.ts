import { Module } from '@nestjs/common';
import { DemoCoreModule } from '../../shared/src/demo-core.module.js';
import { RegistrationService } from './registration.service.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [DemoCoreModule],
  providers: [RegistrationService],
  controllers: [StatusController],
})
export class AppModule {}
