import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { getZookeeperToken, type ZookeeperConnection } from 'nestjs-zookeeper';
import { ServerZookeeper } from 'nestjs-zookeeper/transport';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_TRANSPORT } from '../../shared/src/demo-topology.js';
import { followJobsConcurrency } from './jobs-concurrency.js';

/**
 * Makes the consumer a hybrid app: HTTP plus a ServerZookeeper for its @EventPattern and
 * @MessagePattern handlers. Call it before `listen`.
 *
 * The server uses the app's own ZooKeeper connection (one session per process, the same
 * namespace): Nest closes a hybrid app's microservices after the modules' destroy hooks and
 * before their shutdown hooks, where ZookeeperModule closes that connection, so the server stops
 * (committing the last acked offset, giving back unfinished items) while its session is still
 * open, and SIGTERM or the demo's IPC disconnect end the process without waiting on it.
 */
export async function startConsumerTransport(app: INestApplication): Promise<void> {
  const config = app.get<ConfigService<DemoEnv, true>>(ConfigService);
  const strategy = new ServerZookeeper({
    connection: app.get<ZookeeperConnection>(getZookeeperToken()),
    root: DEMO_TRANSPORT.root,
    // The durable subscriber id of the broadcast log: a restart under this name resumes.
    subscriberId: config.get('INSTANCE_NAME', { infer: true }),
    // Below the 5 s after which scripts/demo.ts SIGKILLs an app that does not stop.
    closeGracePeriodMs: 3000,
  });
  app.connectMicroservice({ strategy });
  await app.startAllMicroservices();
  // The live jobs.concurrency setting resizes the jobs pattern's consumer.
  await followJobsConcurrency(app, strategy);
}
