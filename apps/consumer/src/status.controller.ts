import { Controller, Get } from '@nestjs/common';
import { ConnectionState, InjectZookeeper, ZookeeperConnection } from 'nestjs-zookeeper';
import { ConsumerCounters } from './consumer-counters.service.js';
import { RegistrationService } from './registration.service.js';

export interface ConsumerStatus {
  name: string;
  /** Null while not registered (e.g. between an expired session and the next one). */
  registration: string | null;
  state: ConnectionState;
  /** Broadcast messages received by this process, and the offset of the last one. */
  received: { count: number; lastOffset: number | null };
  /** Jobs this process did. */
  jobsDone: number;
}

@Controller('status')
export class StatusController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly counters: ConsumerCounters,
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
  ) {}

  @Get()
  status(): ConsumerStatus {
    return {
      name: this.registration.name,
      registration: this.registration.path ?? null,
      state: this.zk.state,
      received: this.counters.received,
      jobsDone: this.counters.jobsDone,
    };
  }
}
