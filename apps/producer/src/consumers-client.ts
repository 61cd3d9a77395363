import { ClientsModule, type ClientProvider } from '@nestjs/microservices';
import { getZookeeperToken, type ZookeeperConnection } from 'nestjs-zookeeper';
import { ClientZookeeper } from 'nestjs-zookeeper/transport';
import { demoClientOptions } from '../../shared/src/demo-topology.js';

/** The injection token of the producer's ClientZookeeper (`@Inject(CONSUMERS) ClientProxy`). */
export const CONSUMERS = 'CONSUMERS';

/**
 * The producer's client of the consumers' transport patterns: the master's relay emits the
 * `messages` broadcast through it, POST /jobs emits `jobs`, GET /status sends `consumer-stats`.
 *
 * It rides the app's ZooKeeper connection, which ZookeeperModule opened from the ConfigService
 * (ZK_CONNECT, ZK_SESSION_TIMEOUT_MS, ZK_NAMESPACE): one session per process, so the relay
 * appends through the session that won the election. ClientsModule closes the client on
 * application shutdown (its reply folder and presence node go; the connection is not its own).
 */
export const ConsumersClientModule = ClientsModule.registerAsync([
  {
    name: CONSUMERS,
    inject: [getZookeeperToken()],
    useFactory: (connection: ZookeeperConnection): ClientProvider => ({
      customClass: ClientZookeeper,
      options: demoClientOptions(connection),
    }),
  },
]);
