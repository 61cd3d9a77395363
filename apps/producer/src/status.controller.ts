import { Controller, Get } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ConnectionState, InjectZookeeper, LogStats, ZookeeperConnection } from 'nestjs-zookeeper';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import type { RegisteredClient } from '../../shared/src/client-registration.js';
import { ClientsRegistry } from './clients-registry.service.js';
import { InboxPublisher } from './inbox-publisher.service.js';
import { JobsPublisher } from './jobs-publisher.service.js';
import { MasterService } from './master.service.js';

export interface ProducerStatus {
  name: string;
  state: ConnectionState;
  /** The elected master's instance name (null while none is known). */
  master: string | null;
  isMaster: boolean;
  /** Messages this instance appended to the log while it was master. */
  relayed: number;
  clients: RegisteredClient[];
  /** What the broadcast log holds now (retention deletes what every client committed). */
  log: LogStats;
  /** Items (batches of messages) waiting in each work queue. */
  queues: { inbox: number; jobs: number };
}

@Controller('status')
export class StatusController {
  constructor(
    private readonly registry: ClientsRegistry,
    private readonly master: MasterService,
    private readonly inbox: InboxPublisher,
    private readonly jobs: JobsPublisher,
    private readonly config: ConfigService<DemoEnv, true>,
    @InjectZookeeper() private readonly zk: ZookeeperConnection,
  ) {}

  @Get()
  async status(): Promise<ProducerStatus> {
    const [log, inbox, jobs] = await Promise.all([
      this.master.logStats(),
      this.inbox.pendingItems(),
      this.jobs.pendingItems(),
    ]);
    return {
      name: this.config.get('INSTANCE_NAME', { infer: true }),
      state: this.zk.state,
      master: this.master.currentMaster,
      isMaster: this.master.isMaster,
      relayed: this.master.relayed,
      clients: this.registry.list(),
      log,
      queues: { inbox, jobs },
    };
  }
}
