export * from './dashboard-options.interface.js';
export * from './dashboard-snapshot.js';
export { ZOOKEEPER_DASHBOARD_OPTIONS } from './dashboard.constants.js';
export {
  ZookeeperDashboardService,
  type DeadLetterView,
  type HistoryPoint,
} from './dashboard.service.js';
export { ZookeeperDashboardModule } from './zookeeper-dashboard.module.js';
