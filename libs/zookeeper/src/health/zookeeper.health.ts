import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ConnectionState, isConnectedState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { positiveMs } from '../internal/option-checks.js';
import { getZookeeperToken } from '../module/zookeeper.tokens.js';

export interface ZookeeperHealthCheckOptions {
  /** Name of the connection to check (default connection when omitted), or the connection itself. */
  connection?: string | ZookeeperConnection;
  /** A round trip slower than this counts as down (default 1000 ms). */
  timeoutMs?: number;
}

/**
 * Terminus health indicator: `up` with the connection state and the round-trip time of one
 * `exists('/')`, `down` when the session is not usable or the round trip fails or is too slow.
 * Lives in the `nestjs-zookeeper/health` entry point so apps without @nestjs/terminus never load it.
 */
@Injectable()
export class ZookeeperHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async isHealthy<const Key extends string>(key: Key, options: ZookeeperHealthCheckOptions = {}) {
    positiveMs('ZookeeperHealthIndicator.isHealthy', 'timeoutMs', options.timeoutMs);
    const indicator = this.healthIndicatorService.check(key);
    const connection = this.resolve(options.connection);
    const state: ConnectionState = connection.state;
    if (!isConnectedState(state))
      return indicator.down({ state, message: `ZooKeeper session is ${state}` });
    const timeoutMs = options.timeoutMs ?? 1000;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.exists('/'),
        new Promise(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error(`no reply within ${timeoutMs} ms`)),
              timeoutMs,
            )),
        ),
      ]);
      return indicator.up({
        state,
        roundTripMs: Math.round((performance.now() - started) * 10) / 10,
      });
    } catch (error) {
      return indicator.down({ state, message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  private resolve(connection: string | ZookeeperConnection | undefined): ZookeeperConnection {
    if (connection instanceof ZookeeperConnection) return connection;
    return this.moduleRef.get<ZookeeperConnection>(getZookeeperToken(connection), {
      strict: false,
    });
  }
}
