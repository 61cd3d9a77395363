import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_DASHBOARD_PATH, ZOOKEEPER_DASHBOARD_OPTIONS } from './dashboard.constants.js';
import { createDashboardController } from './dashboard.controller.js';
import {
  ZookeeperDashboardExtras,
  ZookeeperDashboardOptions,
} from './dashboard-options.interface.js';
import { DashboardEnabledGuard } from './dashboard-enabled.guard.js';
import { ZookeeperDashboardService } from './dashboard.service.js';

export const {
  ConfigurableModuleClass: ZookeeperDashboardConfigurableModule,
  OPTIONS_TYPE: ZOOKEEPER_DASHBOARD_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ZOOKEEPER_DASHBOARD_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ZookeeperDashboardOptions>({
  moduleName: 'ZookeeperDashboard',
  optionsInjectionToken: ZOOKEEPER_DASHBOARD_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDashboardOptions')
  .setExtras<ZookeeperDashboardExtras>(
    { path: DEFAULT_DASHBOARD_PATH, guards: [] },
    (definition, extras) => ({
      ...definition,
      providers: [
        ...(definition.providers ?? []),
        ZookeeperDashboardService,
        DashboardEnabledGuard,
      ],
      controllers: [
        createDashboardController(extras.path ?? DEFAULT_DASHBOARD_PATH, extras.guards ?? []),
      ],
      exports: [ZookeeperDashboardService],
    }),
  )
  .build();
