import { Module } from '@nestjs/common';
import { ZookeeperDashboardConfigurableModule } from './dashboard.module-definition.js';

/**
 * A live dashboard of one ZooKeeper connection, mounted at `path`:
 * `ZookeeperDashboardModule.forRoot({ path: '/zk', elections: ['/leader'], queues: ['/jobs'] })`.
 * Needs `ZookeeperModule` (its connection) and an HTTP platform (Express).
 */
@Module({})
export class ZookeeperDashboardModule extends ZookeeperDashboardConfigurableModule {}
