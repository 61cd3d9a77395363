import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PersistentWatchMode } from '../../../libs/zookeeper/src/driver/driver-session.interface.js';
import { ProtocolError, WatchEventType } from 'nestjs-zookeeper';
import { ZookeeperTestingCluster, ZookeeperTestingServer } from 'nestjs-zookeeper/testing';
import { until } from '../../support/until.js';
import { TcpProxy } from './tcp-proxy.js';
import { digestAcl, failureCode, sleep, WireSessions } from './wire-helpers.js';

const EMPTY = Buffer.alloc(0);
const sessions = new WireSessions();
afterAll(() => sessions.closeAll());

describe('wire driver faults (dedicated server)', () => {
  let server: ZookeeperTestingServer;
  beforeAll(async () => {
    server = await ZookeeperTestingServer.start({ startTimeoutMs: 90_000 });
  }, 120_000);
  afterAll(() => server?.close());

  it('server restarted: connecting() then connected() on the same session; watches and auth come back', async () => {
    const connectString = server.connectString;
    const { session: writer } = await sessions.open({ connectString, sessionTimeoutMs: 20_000 });
    const { session, events } = await sessions.open({ connectString, sessionTimeoutMs: 20_000 });
    const id = session.credentials.id;
    await writer.create('/once', EMPTY, 0);
    await writer.create('/tree', EMPTY, 0);
    await session.addAuth('digest', 'app:pw');
    await session.create('/secret', Buffer.from('s'), 0, undefined, [digestAcl('app', 'pw')]);
    await session.create('/mine', EMPTY, 1);
    await session.get('/once', true);
    expect(await failureCode(session.exists('/later', true))).toBe(-101);
    await session.addWatch!('/tree', PersistentWatchMode.PERSISTENT_RECURSIVE);

    await server.stop();
    await events.reached('connecting');
    const duringOutage = session.exists('/mine', false);
    await server.restart();
    await events.reached('connected', 2, 60_000);

    expect(events.states).toEqual(['connected', 'connecting', 'connected']);
    expect(session.credentials.id).toBe(id);
    expect((await duringOutage).ephemeralOwner).toBe(id);
    // Auth was replayed: the digest-protected node is readable.
    expect((await session.get('/secret', false)).data.toString()).toBe('s');
    // Watches were set again: the one-shot ones fire once, the persistent one keeps firing.
    await writer.set('/once', Buffer.from('1'), -1);
    await writer.set('/once', Buffer.from('2'), -1);
    await writer.create('/later', EMPTY, 0);
    await writer.create('/tree/a', EMPTY, 0);
    await writer.set('/tree/a', Buffer.from('x'), -1);
    expect(await events.watched('/once')).toEqual([WatchEventType.CHANGED]);
    expect(await events.watched('/later')).toEqual([WatchEventType.CREATED]);
    expect(await events.watched('/tree/a', 2)).toEqual([
      WatchEventType.CREATED,
      WatchEventType.CHANGED,
    ]);
    await sleep(200);
    expect(events.watchesOf('/once')).toHaveLength(1);
  }, 120_000);

  it('re-attaches to an existing session with config.session, and close() ends it', async () => {
    const connectString = server.connectString;
    // The owner reaches the server through a proxy, cut while the intruder holds the session
    // (else each of them takes the session back from the other as soon as it reconnects).
    const proxy = await TcpProxy.start('127.0.0.1', server.port);
    try {
      const { session: owner, events } = await sessions.open({
        connectString: proxy.connectString,
      });
      await owner.create('/owned', EMPTY, 1);
      const { id, password } = owner.credentials;
      proxy.block();
      await events.reached('connecting');
      const { session: intruder } = await sessions.open({
        connectString,
        session: { id, password },
      });
      expect(intruder.credentials.id).toBe(id);
      expect(intruder.credentials.password).toBe(password);
      expect((await intruder.exists('/owned', false)).ephemeralOwner).toBe(id);
      intruder.close();
      const { session: observer } = await sessions.open({ connectString });
      await until(
        async () => (await failureCode(observer.exists('/owned', false)).catch(() => 0)) === -101,
        {
          message: "the closed session's ephemeral node to go",
        },
      );
      // The session is gone on the server: the owner is told so when it reconnects.
      proxy.unblock();
      await events.reached('closed -112', 1, 30_000);
      expect(events.states).toEqual(['connected', 'connecting', 'closed -112']);
      expect(owner.isEnded).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a hung server (nothing received for 2/3 of the timeout): the link is dropped and the session goes on', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', server.port);
    try {
      const { session, events } = await sessions.open({
        connectString: proxy.connectString,
        sessionTimeoutMs: 8000,
      });
      const id = session.credentials.id;
      proxy.frozen = true;
      const frozenAt = Date.now();
      await events.reached('connecting', 1, 20_000);
      const detectedMs = Date.now() - frozenAt;
      proxy.frozen = false;
      await events.reached('connected', 2, 20_000);
      expect(detectedMs).toBeGreaterThanOrEqual(4000);
      expect(session.credentials.id).toBe(id);
      expect((await session.exists('/', false)).numChildren).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('session expiry: cut off for longer than its timeout, the server says expired → closed(-112)', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', server.port);
    try {
      const { session, events } = await sessions.open({
        connectString: proxy.connectString,
        sessionTimeoutMs: 1500,
      });
      const pending = session.exists('/', false);
      expect((await pending).numChildren).toBeGreaterThan(0);
      proxy.block();
      await events.reached('connecting');
      await sleep(session.negotiatedTimeoutMs + 2500);
      proxy.unblock();
      await events.reached('closed -112', 1, 30_000);
      expect(events.states).toEqual(['connected', 'connecting', 'closed -112']);
      expect(session.isEnded).toBe(true);
      expect(await failureCode(session.exists('/', false))).toBe(-9);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('wire driver against servers that are not ZooKeeper', () => {
  const aliens: Server[] = [];
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(aliens.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function alien(onConnection: (socket: Socket) => void): Promise<string> {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    aliens.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('an HTTP port: every attempt fails with a ProtocolError, no connect, no crash', async () => {
    const connectString = await alien((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')),
    );
    const { session, events } = sessions.create({ connectString, sessionTimeoutMs: 2000 });
    await until(() => events.attempts.length >= 3, { message: 'three failed attempts' });
    session.close();
    expect(events.attempts.slice(0, 3).every((e) => e instanceof ProtocolError)).toBe(true);
    expect(events.states).toEqual([]);
  });

  it('a server that never answers: each attempt times out, then the next is tried', async () => {
    const connectString = await alien(() => undefined);
    const { session, events } = sessions.create({ connectString, sessionTimeoutMs: 1000 });
    const pending = session.exists('/', false);
    await until(() => events.attempts.length >= 2, { message: 'two timed-out attempts' });
    session.close();
    expect(events.attempts[0].message).toContain('timeout');
    expect(events.states).toEqual([]);
    expect(await failureCode(pending)).toBe(-116);
  });

  it('a list with an alien and a real server ends up connected to the real one', async () => {
    const bad = await alien((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const server = process.env.ZK_TEST_CONNECT!;
    const { session, events } = sessions.create({ connectString: `${bad},${server}` });
    await events.reached('connected');
    expect((await session.exists('/', false)).numChildren).toBeGreaterThan(0);
    expect(events.attempts.every((e) => e instanceof ProtocolError)).toBe(true);
  });

  it('a refused port: attempts fail with a plain error and back off, no crash', async () => {
    const probe = await alien(() => undefined);
    const closing = aliens.pop()!;
    await new Promise((resolve) => closing.close(resolve));
    const { session, events } = sessions.create({ connectString: probe, sessionTimeoutMs: 4000 });
    await sleep(1500);
    session.close();
    const count = events.attempts.length;
    expect(count).toBeGreaterThanOrEqual(2);
    // A short backoff between rounds of refusals: not hundreds of attempts per second.
    expect(count).toBeLessThan(60);
    expect(events.attempts[0].message).toContain('ECONNREFUSED');
    await sleep(300);
    expect(events.attempts.length).toBe(count);
  });
});

describe('wire driver on a 3-node ensemble', () => {
  let cluster: ZookeeperTestingCluster;
  beforeAll(async () => {
    cluster = await ZookeeperTestingCluster.start({ size: 3, startTimeoutMs: 120_000 });
  }, 180_000);
  afterAll(() => cluster?.close());

  it('leader killed: reconnects to a server that accepts, same session, requests go on', async () => {
    const { session, events } = await sessions.open({
      connectString: cluster.connectString,
      sessionTimeoutMs: 20_000,
    });
    await session.create('/ensemble', Buffer.from('v0'), 0);
    await session.create('/ensemble/eph', EMPTY, 1);
    const id = session.credentials.id;
    const leader = await cluster.leader();
    expect(leader).toBeDefined();

    const killedAt = Date.now();
    await leader!.kill();
    const versions: number[] = [];
    for (let i = 1; i <= 10; i++) {
      for (;;) {
        try {
          versions.push((await session.set('/ensemble', Buffer.from(`v${i}`), -1)).version);
          break;
        } catch (error) {
          // A set in flight when the link dropped: CONNECTION_LOSS, tried again.
          if ((error as { rc?: number }).rc !== -4) throw error;
          await sleep(50);
        }
      }
    }
    const reconnectMs = Date.now() - killedAt;
    console.log(
      `[wire] leader killed: states ${events.states.join(' → ')}, ` +
        `writes done ${reconnectMs} ms after the kill, ${events.attempts.length} failed attempts`,
    );
    expect(events.count('connecting')).toBeGreaterThanOrEqual(1);
    expect(events.count('connected')).toBe(events.count('connecting') + 1);
    expect(versions).toHaveLength(10);
    expect(session.credentials.id).toBe(id);
    expect((await session.exists('/ensemble/eph', false)).ephemeralOwner).toBe(id);
    expect((await session.get('/ensemble', false)).data.toString()).toBe('v10');
  }, 120_000);
});
