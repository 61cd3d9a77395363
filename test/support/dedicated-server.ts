import { afterAll, beforeAll } from '@jest/globals';
import { ZookeeperConnection, ZookeeperOptions } from 'nestjs-zookeeper';
import { ZookeeperTestingServer, ZookeeperTestingServerOptions } from 'nestjs-zookeeper/testing';
import { silentLogger } from './connect.js';

/**
 * A ZooKeeper of the test file's own, for tests that stop, restart or kill the server or expire
 * sessions without disturbing other files. Started in beforeAll; connections opened through it
 * and the server are closed in afterAll.
 */
export class DedicatedServer {
  private current?: ZookeeperTestingServer;
  private readonly opened: ZookeeperConnection[] = [];

  constructor(options: ZookeeperTestingServerOptions = {}) {
    beforeAll(async () => {
      this.current = await ZookeeperTestingServer.start(options);
    });
    afterAll(async () => {
      await Promise.all(this.opened.map((connection) => connection.close()));
      await this.current?.close();
    });
  }

  get server(): ZookeeperTestingServer {
    if (!this.current) throw new Error('the dedicated server starts in beforeAll');
    return this.current;
  }

  /** A connected connection to this server (closed in afterAll). */
  async connect(options: Partial<ZookeeperOptions> = {}): Promise<ZookeeperConnection> {
    const connection = new ZookeeperConnection({
      connectString: this.server.connectString,
      sessionTimeoutMs: 8000,
      logger: silentLogger,
      retry: { deadlineMs: 20_000 },
      ...options,
    });
    this.opened.push(connection);
    await connection.connect();
    return connection;
  }
}
