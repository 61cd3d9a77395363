import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ZookeeperModule } from 'nestjs-zookeeper';
import { ZookeeperHealthIndicator } from 'nestjs-zookeeper/health';
import { validateDemoEnv, zookeeperOptionsFromConfig } from './demo-config.js';
import { DemoLiveConfigModule } from './demo-live-config.js';
import { HealthController } from './health.controller.js';

/**
 * What every demo app has: validated env config, the default ZooKeeper connection (global, so
 * app modules inject it without importing this again) and GET /health.
 */
@Module({
  imports: [
    // No .env file: the environment alone is what bootstrapDemoApp checked before loading this.
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: true,
      validate: validateDemoEnv,
    }),
    ZookeeperModule.forRootAsync({
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: zookeeperOptionsFromConfig,
    }),
    TerminusModule,
    DemoLiveConfigModule,
  ],
  providers: [ZookeeperHealthIndicator],
  controllers: [HealthController],
})
export class DemoCoreModule {}
