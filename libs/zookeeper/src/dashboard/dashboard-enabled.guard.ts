import { CanActivate, Injectable, NotFoundException } from '@nestjs/common';
import { ZookeeperDashboardService } from './dashboard.service.js';

/** Every dashboard route answers 404 while the dashboard is off (by default in production). */
@Injectable()
export class DashboardEnabledGuard implements CanActivate {
  constructor(private readonly dashboard: ZookeeperDashboardService) {}

  canActivate(): boolean {
    if (!this.dashboard.enabled) throw new NotFoundException();
    return true;
  }
}
