import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { getZookeeperToken, type ZookeeperConnection } from 'nestjs-zookeeper';
import { mono } from './monotonic.js';

/**
 * For scripts/chaos.ts only (DEMO_CHAOS_HOOKS=1, started with an IPC channel): the IPC message
 * `{ type: 'expire-session' }` expires this process's ZooKeeper session the way the library's
 * tests do (`expireSession` from nestjs-zookeeper/testing: a second client attaches to the
 * session and closes it), so the app goes through a real session expiry while it runs.
 */
export function installChaosHooks(app: INestApplication): void {
  if (process.env.DEMO_CHAOS_HOOKS !== '1' || !process.connected) return;
  const logger = new Logger('Chaos');
  process.on('message', (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== 'expire-session') return;
    void (async () => {
      const { expireSession } = await import('nestjs-zookeeper/testing');
      const connection = app.get<ZookeeperConnection>(getZookeeperToken());
      logger.log(`expiring session ${connection.session.id}${mono()}`);
      await expireSession(connection, { timeoutMs: 20_000 });
      logger.log(`session expired${mono()}`);
    })().catch((error: unknown) =>
      logger.warn(`could not expire the session: ${String(error)}${mono()}`),
    );
  });
}
