import { Injectable, Logger, Module, OnModuleDestroy } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { getZookeeperToken, ZookeeperConnection } from 'nestjs-zookeeper';
import { ZookeeperConfig, ZookeeperConfigModule } from 'nestjs-zookeeper/config';

/** The demo's live settings, read from `/config/demo` (and `/config/application`) in the namespace. */
export const DEMO_CONFIG_APPLICATION = 'demo';

/**
 * The keys the demo apps read from ZooKeeper: `generator.rate` (the producer's generated
 * messages per second; unset: GENERATOR_RATE) and `jobs.concurrency` (the consumers' jobs done at
 * once; apps/consumer/src/jobs-concurrency.ts resizes their jobs consumer on a change).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the signature @nestjs/config validate takes
function validateDemoLiveConfig(config: Record<string, any>): Record<string, any> {
  const problems: string[] = [];
  const rate: unknown = config.generator?.rate;
  if (
    rate !== undefined &&
    !(Number.isInteger(rate) && (rate as number) >= 0 && (rate as number) <= 10_000)
  ) {
    problems.push(`generator.rate must be an integer from 0 to 10000, got ${String(rate)}`);
  }
  const concurrency: unknown = config.jobs?.concurrency;
  if (
    concurrency !== undefined &&
    !(
      Number.isInteger(concurrency) &&
      (concurrency as number) >= 1 &&
      (concurrency as number) <= 64
    )
  ) {
    problems.push(`jobs.concurrency must be an integer from 1 to 64, got ${String(concurrency)}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return config;
}

/** Logs each change of the live settings: `[LiveConfig] generator.rate 0 -> 5 (layer demo)`. */
@Injectable()
class LiveConfigLog implements OnModuleDestroy {
  private readonly logger = new Logger('LiveConfig');
  private readonly subscription: Subscription;

  constructor(config: ZookeeperConfig) {
    this.subscription = config.changes$.subscribe((event) => {
      if (event.type === 'changed') {
        this.logger.log(
          `${event.key} ${String(event.oldValue)} -> ${String(event.newValue)} (layer ${event.layer ?? 'none'})`,
        );
      } else {
        this.logger.warn(
          `refused ${event.key} = ${String(event.value)}: ${event.problems.join('; ')}`,
        );
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }
}

/** Both demo apps: live settings from ZooKeeper over the app's own connection. */
@Module({
  imports: [
    ZookeeperConfigModule.forRootAsync({
      inject: [getZookeeperToken()],
      useFactory: (connection: ZookeeperConnection) => ({
        connection,
        application: DEMO_CONFIG_APPLICATION,
        types: { 'generator.rate': 'integer', 'jobs.concurrency': 'integer' },
        validate: validateDemoLiveConfig,
      }),
    }),
  ],
  providers: [LiveConfigLog],
})
export class DemoLiveConfigModule {}
