import { Controller, Get, Inject } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ClientProxy } from '@nestjs/microservices';
import { ConnectionState, InjectZookeeper, LogStats, ZookeeperConnection } from 'nestjs-zookeeper';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import type { RegisteredClient } from '../../shared/src/client-registration.js';
import { ConsumerStats, DEMO_PATTERNS, DEMO_TRANSPORT } from '../../shared/src/demo-topology.js';
import { ClientsRegistry } from './clients-registry.service.js';
import { CONSUMERS } from './consumers-client.js';
import { InboxPublisher } from './inbox-publisher.service.js';
import { JobsPublisher } from './jobs-publisher.service.js';
import { MasterService } from './master.service.js';

/** The request's own deadline, plus what connecting the client may take before it starts. */
const STATS_WAIT_MS = DEMO_TRANSPORT.requestTimeoutMs + 500;

/** A consumer's answer to `consumer-stats`, or why none came (no consumer, timeout, ...). */
export type ConsumerStatsAnswer =
  { answer: ConsumerStats; ms: number } | { error: string; ms: number };

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
  /** Asked of the consumers over the transport for this page (request/response). */
  consumerStats: ConsumerStatsAnswer;
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
    @Inject(CONSUMERS) private readonly consumers: ClientProxy,
  ) {}

  @Get()
  async status(): Promise<ProducerStatus> {
    const [log, inbox, jobs, consumerStats] = await Promise.all([
      this.master.logStats(),
      this.inbox.pendingItems(),
      this.jobs.pendingItems(),
      this.askConsumerStats(),
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
      consumerStats,
    };
  }

  /**
   * One consumer answers (whichever takes the request). Never fails the page: no answer within the
   * client's requestTimeoutMs (1 s, DEMO_TRANSPORT) becomes an `error` field. That deadline starts
   * once the client is connected; the `timeout` here also bounds the connecting, which waits for
   * ZooKeeper (e.g. while the session is suspended).
   */
  private async askConsumerStats(): Promise<ConsumerStatsAnswer> {
    const started = Date.now();
    try {
      const answer = await firstValueFrom(
        this.consumers
          .send<ConsumerStats>(DEMO_PATTERNS.consumerStats, {})
          .pipe(timeout({ first: STATS_WAIT_MS })),
      );
      return { answer, ms: Date.now() - started };
    } catch (error) {
      return { error: describeError(error), ms: Date.now() - started };
    }
  }
}

/** Errors of the transport are Errors; an error reply from a handler is a plain object. */
function describeError(error: unknown): string {
  if (error instanceof TimeoutError) {
    return `no answer within ${STATS_WAIT_MS} ms (the client may still be connecting to ZooKeeper)`;
  }
  if (error instanceof Error) return error.message;
  return typeof error === 'object' ? JSON.stringify(error) : String(error);
}
