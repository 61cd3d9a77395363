import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, Server } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConnectionState,
  ConnectTimeoutError,
  DriverTlsOptions,
  InvalidOptionsError,
  ProtocolError,
  TlsError,
  WatchEventType,
  ZookeeperConnection,
  ZookeeperOptions,
} from 'nestjs-zookeeper';
import {
  generateTestingTlsMaterial,
  ZookeeperTestingServer,
  type ZookeeperTestingTlsMaterial,
} from 'nestjs-zookeeper/testing';
import { nextState, silentLogger, statesUntil } from '../../support/connect.js';
import { until } from '../../support/until.js';

const START_TIMEOUT_MS = 120_000;
/** connect() deadline of the tests that must fail: short, but several attempts fit in it. */
const FAILING_CONNECT_MS = 3000;

const opened: ZookeeperConnection[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
let otherDir: string;
let otherCa: ZookeeperTestingTlsMaterial;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  otherDir = await mkdtemp(join(tmpdir(), 'nestjs-zk-wire-tls-'));
  otherCa = await generateTestingTlsMaterial(otherDir);
}, 60_000);

afterEach(() => {
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  await Promise.all(opened.map((connection) => connection.close()));
  process.off('unhandledRejection', onUnhandled);
  if (otherDir) await rm(otherDir, { recursive: true, force: true });
});

/** A wire connection, closed in afterAll; not connected yet. */
function connection(options: Partial<ZookeeperOptions> & { connectString: string }) {
  const zk = new ZookeeperConnection({
    driver: 'wire',
    sessionTimeoutMs: 10_000,
    connectTimeoutMs: 30_000,
    retry: { deadlineMs: 30_000 },
    logger: silentLogger,
    ...options,
  });
  opened.push(zk);
  return zk;
}

/** The client side of the server's TLS: its CA and the name on its certificate. */
function trusting(server: ZookeeperTestingServer): DriverTlsOptions {
  return { ca: server.tls.ca, servername: server.tls.servername };
}

/** TCP and TLS sockets this process holds (the connections' links). */
function socketCount(): number {
  return process
    .getActiveResourcesInfo()
    .filter((resource) => resource === 'TCPSocketWrap' || resource === 'TLSWrap').length;
}

/**
 * connect() must fail at its deadline (not much later) with a ConnectTimeoutError naming the last
 * attempt's failure, leave the connection CLOSED and no socket open; returns that failure.
 */
async function failedConnect(zk: ZookeeperConnection): Promise<Error> {
  const socketsBefore = socketCount();
  const started = Date.now();
  const error = await zk.connect().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  const elapsed = Date.now() - started;
  expect(error).toBeInstanceOf(ConnectTimeoutError);
  const timeout = error as ConnectTimeoutError;
  expect(timeout.timeoutMs).toBe(FAILING_CONNECT_MS);
  expect(elapsed).toBeGreaterThanOrEqual(FAILING_CONNECT_MS - 50);
  expect(elapsed).toBeLessThan(FAILING_CONNECT_MS + 2000);
  expect(zk.state).toBe(ConnectionState.CLOSED);
  expect(timeout.lastFailure).toBeDefined();
  expect(timeout.message).toContain(`(last attempt: ${timeout.lastFailure!.message})`);
  await until(() => socketCount() <= socketsBefore, {
    timeoutMs: 2000,
    message: () => `sockets closed: ${process.getActiveResourcesInfo().join(', ')}`,
  });
  return timeout.lastFailure!;
}

function expectTlsError(failure: Error, reason: RegExp): void {
  expect(failure).toBeInstanceOf(TlsError);
  expect(failure.name).toBe('TlsError');
  expect(failure.message).toMatch(
    /^connect: TLS handshake with ZooKeeper failed: 127\.0\.0\.1:\d+: /,
  );
  expect(failure.message).toMatch(reason);
}

describe('wire driver over TLS (tls: true)', () => {
  let server: ZookeeperTestingServer;
  beforeAll(async () => {
    server = await ZookeeperTestingServer.start({ tls: true, startTimeoutMs: START_TIMEOUT_MS });
  }, START_TIMEOUT_MS + 10_000);
  afterAll(() => server?.close());

  it('round trip: create, get, set, delete, a watch fires, the session is real', async () => {
    const zk = connection({ connectString: server.tls.connectString, tls: trusting(server) });
    await zk.connect();
    expect(zk.state).toBe(ConnectionState.CONNECTED);
    expect(zk.capabilities.tls).toBe(true);
    expect(zk.session.id).toMatch(/^[0-9a-f]+$/);
    expect(zk.session.id).not.toBe('0');

    await zk.create('/tls', 'one');
    const first = await zk.get('/tls');
    expect(first.data.toString()).toBe('one');
    const events: WatchEventType[] = [];
    await zk.get('/tls', { watch: (event) => events.push(event.type) });
    const stat = await zk.set('/tls', 'two');
    expect(stat.version).toBe(first.stat.version + 1);
    await until(() => events.length > 0, { message: () => 'the data watch on /tls' });
    expect(events).toEqual([WatchEventType.CHANGED]);
    expect((await zk.get('/tls')).data.toString()).toBe('two');
    await zk.delete('/tls');
    expect(await zk.exists('/tls')).toBeUndefined();
  });

  it('verifies by IP too: no servername, the certificate holds 127.0.0.1', async () => {
    const zk = connection({ connectString: server.tls.connectString, tls: { ca: server.tls.ca } });
    await zk.connect();
    expect(zk.session.id).not.toBe('0');
  });

  it('refuses a server whose certificate another CA signed: TlsError, at the deadline', async () => {
    const zk = connection({
      connectString: server.tls.connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
      tls: { ca: otherCa.ca, servername: server.tls.servername },
    });
    expectTlsError(await failedConnect(zk), /unable to verify .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it("refuses a certificate for another name: servername 'not-the-server'", async () => {
    const zk = connection({
      connectString: server.tls.connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
      tls: { ca: server.tls.ca, servername: 'not-the-server' },
    });
    expectTlsError(
      await failedConnect(zk),
      /not-the-server.*ERR_TLS_CERT_ALTNAME_INVALID.*tls\.servername/,
    );
  });

  it('a TLS client on the plain port: TlsError', async () => {
    const zk = connection({
      connectString: server.connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
      tls: trusting(server),
    });
    expectTlsError(await failedConnect(zk), /plain-text port|closed|reset/);
  });

  it('a plain client on the TLS port: ProtocolError', async () => {
    const zk = connection({
      connectString: server.tls.connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
    });
    const failure = await failedConnect(zk);
    expect(failure).toBeInstanceOf(ProtocolError);
    expect(failure.name).toBe('ProtocolError');
    expect(failure.message).toMatch(/without answering the ConnectRequest.*tls option/);
  });

  it(
    'server restarted: SUSPENDED, then RECONNECTED on the same session, over TLS again',
    async () => {
      const zk = connection({ connectString: server.tls.connectString, tls: trusting(server) });
      await zk.connect();
      await zk.create('/restart', 'before');
      const sessionId = zk.session.id;
      const states = statesUntil(zk, ConnectionState.RECONNECTED);

      await server.stop();
      await nextState(zk, ConnectionState.SUSPENDED);
      const readDuringOutage = zk.get('/restart');
      await server.restart();

      expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
      expect(zk.session.id).toBe(sessionId);
      expect((await readDuringOutage).data.toString()).toBe('before');
      await zk.set('/restart', 'after');
      expect((await zk.get('/restart')).data.toString()).toBe('after');
    },
    START_TIMEOUT_MS,
  );
});

describe("wire driver over TLS with clientAuth 'need'", () => {
  let server: ZookeeperTestingServer;
  beforeAll(async () => {
    server = await ZookeeperTestingServer.start({
      tls: { clientAuth: 'need' },
      startTimeoutMs: START_TIMEOUT_MS,
    });
  }, START_TIMEOUT_MS + 10_000);
  afterAll(() => server?.close());

  it('without a client certificate: TlsError, at the deadline', async () => {
    const zk = connection({
      connectString: server.tls.connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
      tls: trusting(server),
    });
    // ZooKeeper's TLSv1.2 alerts in the handshake; a server that resets instead is reported too.
    expectTlsError(
      await failedConnect(zk),
      /refused the handshake: .*client certificate|closed the connection|reset/,
    );
  });

  it('with the client certificate and key: works', async () => {
    const zk = connection({
      connectString: server.tls.connectString,
      tls: { ...trusting(server), cert: server.tls.clientCert, key: server.tls.clientKey },
    });
    await zk.connect();
    await zk.create('/client-auth', 'ok');
    expect((await zk.get('/client-auth')).data.toString()).toBe('ok');
    expect(zk.session.id).not.toBe('0');
  });
});

describe('a TLS 1.3 server that checks the client certificate after the handshake', () => {
  let server: Server;
  let connectString: string;
  beforeAll(async () => {
    server = createTlsServer({
      cert: otherCa.serverCert,
      key: otherCa.serverKey,
      ca: otherCa.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    connectString = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  // Under TLS 1.3 the client is through the handshake (and has sent its ConnectRequest) before
  // the server refuses it with an alert: still a TlsError, not a plain error.
  it('without a client certificate: TlsError naming the alert', async () => {
    const zk = connection({
      connectString,
      connectTimeoutMs: FAILING_CONNECT_MS,
      tls: { ca: otherCa.ca, servername: 'localhost' },
    });
    expectTlsError(
      await failedConnect(zk),
      /refused the handshake: .*ERR_SSL_(TLSV13_|SSL\/TLS_)ALERT_CERTIFICATE_REQUIRED.*tls\.cert/,
    );
  });
});

describe('native driver', () => {
  it('refuses the tls option', () => {
    expect(
      () =>
        new ZookeeperConnection({
          connectString: '127.0.0.1:2281',
          driver: 'native',
          tls: { ca: 'pem' },
        }),
    ).toThrow(InvalidOptionsError);
  });
});
