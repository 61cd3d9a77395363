import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ZookeeperConfig } from 'nestjs-zookeeper/config';
import type { ServerZookeeper } from 'nestjs-zookeeper/transport';
import { DEMO_PATTERNS } from '../../shared/src/demo-topology.js';
import { JOBS_CONCURRENCY } from './job-worker.controller.js';

const KEY = 'jobs.concurrency';

/**
 * The live `jobs.concurrency` setting (unset: the @EventPattern's JOBS_CONCURRENCY) applied to the
 * jobs pattern's queue consumer, at startup and on every change, logged as
 * `[Jobs] concurrency 2 -> 3` once the consumer runs with it (scripts/demo reads that line).
 */
export async function followJobsConcurrency(
  app: INestApplication,
  server: ServerZookeeper,
): Promise<void> {
  const config = app.get(ZookeeperConfig);
  const logger = new Logger('Jobs');
  const apply = async (value: unknown) => {
    const wanted = typeof value === 'number' ? value : JOBS_CONCURRENCY;
    const previous = await server.setConcurrency(DEMO_PATTERNS.jobs, wanted);
    if (previous !== wanted) logger.log(`concurrency ${previous} -> ${wanted}`);
  };
  const failed = (error: unknown) => logger.error(`concurrency not changed: ${String(error)}`);
  // Completed when the config closes with the app.
  config.changes$.subscribe((event) => {
    if (event.type === 'changed' && event.key === KEY) apply(event.newValue).catch(failed);
  });
  await apply(config.get(KEY));
}
