import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ZooKeeper from 'zookeeper';
import {
  fourLetterWord,
  parseServerMode,
  parseSrvr,
  ZookeeperServerStartError,
  ZookeeperTestingServer,
} from 'nestjs-zookeeper/testing';
import { until } from '../support/until.js';

const { ZOO_PERSISTENT, ZOO_PERSISTENT_WITH_TTL } = ZooKeeper.constants;

/** Raw driver client with C-client logging limited to errors; callers must close it. */
async function connectRaw(connectString: string): Promise<ZooKeeper> {
  const client = new ZooKeeper({ connect: connectString, timeout: 5_000, debug_level: 1 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no connection to ${connectString}`)),
        15_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.init({});
    });
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

async function withClient<T>(
  connectString: string,
  use: (client: ZooKeeper) => Promise<T>,
): Promise<T> {
  const client = await connectRaw(connectString);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ZookeeperTestingServer', () => {
  let server: ZookeeperTestingServer;

  beforeAll(async () => {
    server = await ZookeeperTestingServer.start();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('starts a standalone server on a loopback port that answers four-letter words', async () => {
    expect(server.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.connectString).toBe(`127.0.0.1:${server.port}`);
    expect(server.pid).toEqual(expect.any(Number));
    expect(existsSync(server.dataDir)).toBe(true);
    expect(await fourLetterWord('127.0.0.1', server.port, 'ruok')).toBe('imok');
    const srvr = await fourLetterWord('127.0.0.1', server.port, 'srvr');
    expect(parseServerMode(srvr)).toBe('standalone');
    expect(parseSrvr(srvr).version).toMatch(/^3\.(8|9|\d\d)\./);
    // The JVM's output went to the log file, configured through the generated logging config.
    expect(readFileSync(server.logFile, 'utf8')).toMatch(/binding to port .*127\.0\.0\.1/i);
  });

  it('enables TTL nodes and uses a 200 ms tick with a 60 s session cap', async () => {
    await withClient(server.connectString, async (client) => {
      const path = await client.create('/ttl-node', 'x', ZOO_PERSISTENT_WITH_TTL, 60_000);
      expect(path).toBe('/ttl-node');
    });
    const conf = await fourLetterWord('127.0.0.1', server.port, 'conf');
    expect(conf).toMatch(/^maxSessionTimeout=60000$/m);
    expect(conf).toMatch(/^tickTime=200$/m);
  });

  it('keeps its data and port across restart()', async () => {
    await withClient(server.connectString, (client) =>
      client.create('/survives-restart', 'hello', ZOO_PERSISTENT),
    );
    const { port, pid: oldPid } = server;

    await server.restart();

    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(oldPid);
    expect(await fourLetterWord('127.0.0.1', server.port, 'ruok')).toBe('imok');
    const [, data] = await withClient(server.connectString, (client) =>
      client.get('/survives-restart', false),
    );
    expect(String(data)).toBe('hello');
  });

  it('starts again after a kill that left a transaction log without its header', async () => {
    await withClient(server.connectString, (client) =>
      client.create('/before-the-empty-log', 'kept', ZOO_PERSISTENT),
    );
    await server.kill();
    // What a server killed just after it opened a new log leaves: the file, not its 16-byte
    // header (ZooKeeper 3.8 then refused to start, EOFException reading the header).
    const logs = join(server.dataDir, 'version-2');
    const newest = readdirSync(logs)
      .filter((name) => name.startsWith('log.'))
      .sort((a, b) => parseInt(a.slice(4), 16) - parseInt(b.slice(4), 16))
      .at(-1)!;
    writeFileSync(join(logs, `log.${(parseInt(newest.slice(4), 16) + 1000).toString(16)}`), '');

    await server.start();

    const [, data] = await withClient(server.connectString, (client) =>
      client.get('/before-the-empty-log', false),
    );
    expect(String(data)).toBe('kept');
  });

  it('kill() makes the port refuse connections, and start() brings it back', async () => {
    const pid = server.pid!;
    await server.kill();

    expect(server.pid).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
    await expect(fourLetterWord('127.0.0.1', server.port, 'ruok')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });

    await server.start();
    expect(await fourLetterWord('127.0.0.1', server.port, 'ruok')).toBe('imok');
  });

  it('close() stops the JVM and removes its files', async () => {
    const other = await ZookeeperTestingServer.start();
    const { pid, baseDir, dataDir, port } = other;
    expect(existsSync(dataDir)).toBe(true);

    await other.close();

    expect(isAlive(pid!)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
    await expect(fourLetterWord('127.0.0.1', port, 'ruok')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('reports a failed startup with the log file path and its last lines', async () => {
    const broken = new ZookeeperTestingServer({ config: { tickTime: 'not-a-number' } });
    try {
      const error = await broken.start().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ZookeeperServerStartError);
      const { message, logFile } = error as ZookeeperServerStartError;
      expect(logFile).toBe(broken.logFile);
      expect(message).toContain(`Log file: ${broken.logFile}`);
      expect(message).toContain('Invalid config');
      expect(broken.running).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('does not leave the JVM behind when the Node process that started it is SIGKILLed', async () => {
    // tsx resolves the package name through tsconfig paths, as in the fixtures.
    const script = [
      "import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';",
      'const server = await ZookeeperTestingServer.start();',
      'console.log(JSON.stringify({ pid: server.pid, baseDir: server.baseDir }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve(output.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`child exited early with code ${code}`)));
    });
    const { pid, baseDir } = JSON.parse(firstLine) as { pid: number; baseDir: string };
    try {
      expect(isAlive(pid)).toBe(true);

      child.kill('SIGKILL');

      await until(() => !isAlive(pid), {
        message: `the JVM ${pid} to exit with its parent`,
        timeoutMs: 10_000,
        pollMs: 50,
      });
    } finally {
      // The killed process had no chance to remove its files.
      rmSync(baseDir, { recursive: true, force: true });
    }
  });
});
