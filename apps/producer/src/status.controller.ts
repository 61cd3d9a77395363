import { Controller, Get } from '@nestjs/common';
import { ConnectionState, InjectZookeeper, ZookeeperConnection } from 'nestjs-zookeeper';
import { ClientsRegistry, RegisteredClient } from './clients-registry.service.js';

export interface ProducerStatus {
  clients: RegisteredClient[];
  state: ConnectionState;
}

@Controller('status')
export class StatusController {
  constructor(
    private readonly registry: ClientsRegistry,
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
  ) {}

  @Get()
  status(): ProducerStatus {
    return { clients: this.registry.list(), state: this.zk.state };
  }
}
