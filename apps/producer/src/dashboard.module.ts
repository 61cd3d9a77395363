import { ZookeeperDashboardModule } from 'nestjs-zookeeper/dashboard';
import { DEMO_PATHS, DEMO_TRANSPORT } from '../../shared/src/demo-topology.js';

/**
 * The library's dashboard at GET /dashboard on every producer: the master election, the
 * consumers' group, the inbox and jobs queues, the messages log, and the namespace's tree.
 * Off when NODE_ENV=production (the library's default); DEMO_DASHBOARD=0 turns it off too.
 */
export const DemoDashboardModule = ZookeeperDashboardModule.forRoot({
  path: '/dashboard',
  title: 'nestjs-zookeeper demo',
  enabled: process.env.DEMO_DASHBOARD === '0' ? false : undefined,
  elections: [DEMO_PATHS.master],
  memberships: [DEMO_PATHS.clients],
  queues: [DEMO_PATHS.inbox, DEMO_TRANSPORT.jobsQueue],
  logs: [DEMO_TRANSPORT.messagesLog],
  storageRoots: ['/'],
  fourLetterWords: true,
});
