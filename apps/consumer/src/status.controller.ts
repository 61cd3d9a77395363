import { Controller, Get } from '@nestjs/common';
import { ConnectionState, InjectZookeeper, ZookeeperConnection } from 'nestjs-zookeeper';
import { RegistrationService } from './registration.service.js';

export interface ConsumerStatus {
  name: string;
  /** Null while not registered (e.g. between an expired session and the next one). */
  registration: string | null;
  state: ConnectionState;
}

@Controller('status')
export class StatusController {
  constructor(
    private readonly registration: RegistrationService,
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
  ) {}

  @Get()
  status(): ConsumerStatus {
    return {
      name: this.registration.name,
      registration: this.registration.path ?? null,
      state: this.zk.state,
    };
  }
}
