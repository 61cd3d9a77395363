import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ZookeeperConfig } from 'nestjs-zookeeper/config';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { InboxPublisher } from './inbox-publisher.service.js';

/**
 * `--rate N` (or GENERATOR_RATE=N): publishes N messages per second into the inbox, for demos and
 * load. Ticks every 100 ms; while one tick waits for ZooKeeper the next ones only add to what
 * is owed, so a slow server lowers the request rate instead of piling up requests.
 */
@Injectable()
export class GeneratorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Generator');
  private rate: number;
  private readonly name: string;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private sent = 0;
  private owed = 0;

  constructor(
    private readonly inbox: InboxPublisher,
    config: ConfigService<DemoEnv, true>,
    live: ZookeeperConfig,
  ) {
    // generator.rate in ZooKeeper (/config/demo) wins over GENERATOR_RATE, and is followed live.
    const fromEnv = config.get('GENERATOR_RATE', { infer: true });
    this.rate = live.get<number>('generator.rate') ?? fromEnv;
    live.changes$.subscribe((event) => {
      if (event.type === 'changed' && event.key === 'generator.rate') {
        this.rate = (event.newValue as number | undefined) ?? fromEnv;
        this.start();
      }
    });
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  private start(): void {
    if (this.rate === 0 || this.timer) return;
    this.logger.log(`publishing ${this.rate} messages per second`);
    this.timer = setInterval(() => void this.tick(), 100);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    this.owed = this.rate === 0 ? 0 : this.owed + this.rate / 10;
    if (this.busy) return;
    this.busy = true;
    const count = Math.floor(this.owed);
    this.owed -= count;
    try {
      await Promise.all(
        Array.from({ length: count }, () => {
          const n = ++this.sent;
          return this.inbox.publish({ id: `${this.name}-gen-${n}`, text: `generated #${n}` });
        }),
      );
    } catch (error) {
      this.logger.warn(`publishing failed, will go on: ${String(error)}`);
    } finally {
      this.busy = false;
    }
  }
}
