import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { TlsError } from 'nestjs-zookeeper';
import { until } from '../../support/until.js';
import { FakeConnection, FakeZkServer } from './fake-zk-server.js';
import { failureCode, sleep, WireSessions } from './wire-helpers.js';

// Local stand-ins for servers that misbehave (out-of-step replies, sessions not asked for, links
// dropped at once): the client under test must neither hang nor spin.
const sessions = new WireSessions();
const fakes: FakeZkServer[] = [];
afterEach(() => sessions.closeAll());
afterAll(() => Promise.all(fakes.map((fake) => fake.close())));

async function fake(onConnect: (connection: FakeConnection) => void): Promise<FakeZkServer> {
  const server = await FakeZkServer.start(onConnect);
  fakes.push(server);
  return server;
}

/** `promise`'s rejection code, or 'pending' when it has not settled within `ms`. */
async function settled(promise: Promise<unknown>, ms = 3000): Promise<number | 'pending'> {
  const timeout = sleep(ms).then(() => 'pending' as const);
  return Promise.race([failureCode(promise), timeout]);
}

describe('wire driver against misbehaving servers', () => {
  it('a reply with an unexpected xid fails its request CONNECTION_LOSS (no hang), the link is dropped', async () => {
    const server = await fake((connection) => {
      connection.accept(0x100n, 4000);
      connection.onRequest = (request) => connection.reply(request.xid + 1000, 1n, 0);
    });
    const { session, events } = await sessions.open({ connectString: server.connectString });
    const first = session.exists('/a', false);
    const second = session.exists('/b', false);
    expect(await settled(first)).toBe(-4);
    expect(await settled(second)).toBe(-4);
    await events.reached('connecting');
  });

  it('an oversized reply with an unexpected xid fails its request CONNECTION_LOSS (no hang)', async () => {
    const server = await fake((connection) => {
      connection.accept(0x100n, 4000);
      connection.onRequest = (request) =>
        connection.reply(request.xid + 1000, 1n, 0, Buffer.alloc(4000));
    });
    const { session, events } = await sessions.open({
      connectString: server.connectString,
      maxFrameBytes: 1024,
    });
    expect(await settled(session.get('/a', false))).toBe(-4);
    await events.reached('connecting');
  });

  it('a server that accepts the session and drops the link at once: reconnects back off', async () => {
    const server = await fake((connection) => {
      connection.accept(0x100n, 4000);
      setImmediate(() => connection.socket.destroy());
    });
    const { session } = sessions.create({ connectString: server.connectString });
    await sleep(1500);
    session.close();
    const count = server.connections.length;
    // Growing pauses (50-100 ms, then doubling up to 1 s), not hundreds of links per second.
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThan(20);
  });

  it('a link that lasted resets the backoff: after it drops, the server is tried again at once', async () => {
    let droppedAt = 0;
    let reconnectMs = -1;
    const server = await fake((connection) => {
      connection.accept(0x100n, 4000);
      const link = server.connections.length;
      if (link <= 3) {
        setImmediate(() => connection.socket.destroy());
      } else if (link === 4) {
        setTimeout(() => {
          droppedAt = Date.now();
          connection.socket.destroy();
        }, 2500);
      } else if (link === 5) {
        reconnectMs = Date.now() - droppedAt;
      }
    });
    sessions.create({ connectString: server.connectString });
    await until(() => reconnectMs >= 0, { timeoutMs: 10_000, message: 'a fifth link' });
    // Three links dropped at once built up a pause of 500-1000 ms; the lasting one cleared it.
    expect(reconnectMs).toBeLessThan(300);
  });

  it('re-attaching, the server answers with another session: closed(-112), not connected', async () => {
    const server = await fake((connection) => {
      if (server.connections.length === 1) {
        connection.accept(0x100n, 4000);
        setTimeout(() => connection.socket.destroy(), 50);
      } else {
        connection.accept(0x200n, 4000);
      }
    });
    const { session, events } = await sessions.open({ connectString: server.connectString });
    await events.reached('closed -112');
    expect(events.states).toEqual(['connected', 'connecting', 'closed -112']);
    expect(server.connections[1].connect?.sessionId).toBe(0x100n);
    expect(session.isEnded).toBe(true);
    expect(session.credentials.id).toBe('100');
  });

  it('config.session, and the server answers with another session: closed(-112)', async () => {
    const server = await fake((connection) => connection.accept(0x200n, 4000));
    const { session, events } = sessions.create({
      connectString: server.connectString,
      session: { id: '100', password: '00'.repeat(16) },
    });
    await events.reached('closed -112');
    expect(events.states).toEqual(['closed -112']);
    expect(session.credentials.id).toBe('100');
  });

  it('SetWatches: its zxid counts as seen, a refusal is a process warning', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const server = await fake((connection) => {
        connection.accept(0x100n, 4000);
        connection.onRequest = (request) => {
          if (request.xid === -8) connection.reply(-8, 0x99n, -5);
          else connection.reply(request.xid, 0x50n, -101);
          if (server.connections.length < 3) setTimeout(() => connection.socket.destroy(), 50);
        };
      });
      const { session, events } = await sessions.open({ connectString: server.connectString });
      expect(await failureCode(session.exists('/x', true))).toBe(-101);
      await events.reached('connected', 3);
      expect(server.connections[1].connect?.lastZxid).toBe(0x50n);
      expect(server.connections[1].requests[0]).toMatchObject({ xid: -8 });
      expect(server.connections[2].connect?.lastZxid).toBe(0x99n);
      const warnings = warn.mock.calls.map((call) => String(call[0]));
      expect(warnings.some((w) => w.includes('SetWatches: -5'))).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it('close(): a request the server never answers fails CONNECTION_LOSS when the close wait ends', async () => {
    const server = await fake((connection) => connection.accept(0x100n, 4000));
    const { session } = await sessions.open({ connectString: server.connectString });
    const unanswered = session.set('/x', Buffer.from('v'), -1);
    const closedAt = Date.now();
    session.close();
    expect(await settled(unanswered)).toBe(-4);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(900);
    await until(() => server.connections[0].requests.length === 2, { message: 'two requests' });
    expect(server.connections[0].requests.map((r) => r.op)).toEqual([5, -11]);
  });

  it('pings after 10 s of silence at most, even with a long session timeout', async () => {
    let connectedAt = 0;
    const server = await fake((connection) => {
      connection.accept(0x100n, 60_000);
      connectedAt = Date.now();
      connection.onRequest = (request) => {
        if (request.xid === -2) connection.reply(-2, 0n, 0);
      };
    });
    await sessions.open({ connectString: server.connectString, sessionTimeoutMs: 60_000 });
    const requests = server.connections[0].requests;
    await until(() => requests.length > 0, { timeoutMs: 15_000, message: 'a ping' });
    expect(requests[0]).toMatchObject({ xid: -2, op: 11 });
    expect(Date.now() - connectedAt).toBeLessThan(11_000);
  }, 30_000);

  it('tls options node:tls refuses at once (not PEM): each attempt fails with a TlsError, no throw', async () => {
    const server = await fake(() => undefined);
    const { session, events } = sessions.create({
      connectString: server.connectString,
      tls: { key: 'not a key', cert: 'not a certificate' },
    });
    await until(() => events.attempts.length >= 2, { message: 'two failed attempts' });
    session.close();
    expect(events.attempts[0]).toBeInstanceOf(TlsError);
    expect(events.attempts[0].message).toContain('tls options are unusable');
    expect(events.states).toEqual([]);
    expect(server.connections).toHaveLength(0);
  });
});
