import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ZookeeperConnection } from 'nestjs-zookeeper';
import { ZookeeperTestingError } from 'nestjs-zookeeper';
import {
  generateTestingTlsMaterial,
  ZookeeperTestingCluster,
  ZookeeperTestingServer,
  type ZookeeperTestingTlsMaterial,
} from 'nestjs-zookeeper/testing';
import { silentLogger } from '../support/connect.js';

const START_TIMEOUT_MS = 120_000;

interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwordLength: number;
}

/** What came of one TLS connection that sent a ConnectRequest. */
type Outcome =
  | { kind: 'response'; authorized: boolean; response: ConnectResponse }
  /** The handshake or the first read failed with this error code. */
  | { kind: 'refused'; code: string }
  /** The server closed the connection without answering. */
  | { kind: 'closed' };

/** A ZooKeeper ConnectRequest, length-prefixed, as the Java client sends it. */
function connectRequest(): Buffer {
  const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + 1);
  let offset = 0;
  offset = body.writeInt32BE(0, offset); // protocolVersion
  offset = body.writeBigInt64BE(0n, offset); // lastZxidSeen
  offset = body.writeInt32BE(30_000, offset); // timeOut
  offset = body.writeBigInt64BE(0n, offset); // sessionId
  offset = body.writeInt32BE(16, offset); // passwd: length, then 16 zero bytes
  offset += 16;
  body.writeUInt8(0, offset); // readOnly
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function parseConnectResponse(frame: Buffer): ConnectResponse {
  return {
    protocolVersion: frame.readInt32BE(0),
    timeOut: frame.readInt32BE(4),
    sessionId: frame.readBigInt64BE(8),
    passwordLength: frame.readInt32BE(16),
  };
}

/** Connects over TLS, sends a ConnectRequest and reads the length-prefixed reply. */
function exchange(port: number, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...options });
    let received = Buffer.alloc(0);
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS outcome from 127.0.0.1:${port} within 20 s`));
    }, 20_000);
    socket.once('secureConnect', () => socket.write(connectRequest()));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readInt32BE(0);
      if (received.length < 4 + length) return;
      finish({
        kind: 'response',
        authorized: socket.authorized,
        response: parseConnectResponse(received.subarray(4, 4 + length)),
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ kind: 'refused', code: error.code ?? error.message }),
    );
    socket.once('close', () => finish({ kind: 'closed' }));
  });
}

// A server that rejects a client certificate alerts during the handshake (TLS 1.2) or, under
// TLS 1.3, right after it; either way the client sees an alert or a reset, never a reply.
// Alert codes as Node 20's OpenSSL 3.0 names them (SSLV3_/TLSV1_/TLSV13_) and as Node 24's names
// them (SSL/TLS_).
const REFUSED_CLIENT = [
  ...['SSLV3_', 'SSL/TLS_'].flatMap((prefix) => [
    { kind: 'refused', code: `ERR_SSL_${prefix}ALERT_BAD_CERTIFICATE` },
    { kind: 'refused', code: `ERR_SSL_${prefix}ALERT_CERTIFICATE_UNKNOWN` },
  ]),
  ...['TLSV13_', 'SSL/TLS_'].map((prefix) => ({
    kind: 'refused',
    code: `ERR_SSL_${prefix}ALERT_CERTIFICATE_REQUIRED`,
  })),
  ...['TLSV1_', 'SSL/TLS_'].map((prefix) => ({
    kind: 'refused',
    code: `ERR_SSL_${prefix}ALERT_UNKNOWN_CA`,
  })),
  { kind: 'refused', code: 'ECONNRESET' },
  { kind: 'closed' },
];

let otherDir: string;
let otherCa: ZookeeperTestingTlsMaterial;

beforeAll(async () => {
  otherDir = await mkdtemp(join(tmpdir(), 'nestjs-zk-other-ca-'));
  otherCa = await generateTestingTlsMaterial(otherDir);
});

afterAll(async () => {
  await rm(otherDir, { recursive: true, force: true });
});

describe('ZookeeperTestingServer with tls: true', () => {
  let server: ZookeeperTestingServer;

  beforeAll(async () => {
    server = await ZookeeperTestingServer.start({ tls: true, startTimeoutMs: START_TIMEOUT_MS });
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await server?.close();
  });

  it('exposes a secure port beside the plain one, with PEM certificates', () => {
    const { tls } = server;
    expect(tls.port).not.toBe(server.port);
    expect(tls.connectString).toBe(`127.0.0.1:${tls.port}`);
    expect(tls.clientAuth).toBe('none');
    expect(tls.servername).toBe('localhost');
    expect(tls.ca).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(tls.clientCert).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(tls.clientKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('answers a ConnectRequest over TLS when the client trusts the generated CA', async () => {
    const outcome = await exchange(server.tls.port, { ca: server.tls.ca });
    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.authorized).toBe(true);
    expect(outcome.response.protocolVersion).toBe(0);
    expect(outcome.response.timeOut).toBe(30_000);
    expect(outcome.response.timeOut).toBeGreaterThan(0);
    expect(outcome.response.sessionId).not.toBe(0n);
    expect(outcome.response.passwordLength).toBe(16);
  });

  it('verifies by name too: servername localhost matches the certificate', async () => {
    const outcome = await exchange(server.tls.port, {
      ca: server.tls.ca,
      servername: server.tls.servername,
    });
    expect(outcome.kind).toBe('response');
  });

  it('is refused by a client that trusts another CA', async () => {
    const outcome = await exchange(server.tls.port, { ca: otherCa.ca });
    expect(outcome).toEqual({ kind: 'refused', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('does not speak TLS on the plain port', async () => {
    const outcome = await exchange(server.port, { ca: server.tls.ca });
    expect(outcome.kind).not.toBe('response');
  });

  it('keeps the plain port: ZookeeperConnection connects to server.connectString', async () => {
    const connection = new ZookeeperConnection({
      connectString: server.connectString,
      connectTimeoutMs: 20_000,
      logger: silentLogger,
    });
    try {
      await connection.connect();
      await connection.create('/tls-plain', 'over the plain port');
      expect((await connection.get('/tls-plain')).data.toString()).toBe('over the plain port');
    } finally {
      await connection.close();
    }
  });
  it(
    'keeps its secure port and certificates across restart()',
    async () => {
      const before = server.tls;
      await server.restart();
      expect(server.tls).toEqual(before);
      const outcome = await exchange(before.port, { ca: before.ca });
      expect(outcome.kind).toBe('response');
    },
    START_TIMEOUT_MS,
  );
});

describe("ZookeeperTestingServer with tls: { clientAuth: 'need' }", () => {
  let server: ZookeeperTestingServer;

  beforeAll(async () => {
    server = await ZookeeperTestingServer.start({
      tls: { clientAuth: 'need' },
      startTimeoutMs: START_TIMEOUT_MS,
    });
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await server?.close();
  });

  it('reports its clientAuth', () => {
    expect(server.tls.clientAuth).toBe('need');
  });

  it('refuses a client without a certificate', async () => {
    const outcome = await exchange(server.tls.port, { ca: server.tls.ca });
    expect(REFUSED_CLIENT).toContainEqual(outcome);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const outcome = await exchange(server.tls.port, {
      ca: server.tls.ca,
      cert: otherCa.clientCert,
      key: otherCa.clientKey,
    });
    expect(REFUSED_CLIENT).toContainEqual(outcome);
  });

  it('answers a client that presents the generated client certificate', async () => {
    const outcome = await exchange(server.tls.port, {
      ca: server.tls.ca,
      cert: server.tls.clientCert,
      key: server.tls.clientKey,
    });
    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.authorized).toBe(true);
    expect(outcome.response.timeOut).toBe(30_000);
    expect(outcome.response.sessionId).not.toBe(0n);
  });
});

describe('ZookeeperTestingCluster with tls: true', () => {
  let cluster: ZookeeperTestingCluster;

  beforeAll(async () => {
    cluster = await ZookeeperTestingCluster.start({
      size: 3,
      tls: true,
      startTimeoutMs: START_TIMEOUT_MS,
    });
  }, 2 * START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.close();
  });

  it('gives every node a secure port under one CA, each answering a ConnectRequest', async () => {
    expect(cluster.tls.connectString).toBe(
      cluster.nodes.map((node) => `127.0.0.1:${node.tls.port}`).join(','),
    );
    for (const node of cluster.nodes) {
      expect(node.tls.ca).toBe(cluster.tls.ca);
      const outcome = await exchange(node.tls.port, { ca: cluster.tls.ca });
      expect(outcome.kind).toBe('response');
      if (outcome.kind === 'response') expect(outcome.response.sessionId).not.toBe(0n);
    }
  });
});

describe('ZookeeperTestingServer without tls', () => {
  it('has no secure port and says how to get one', () => {
    const server = new ZookeeperTestingServer();
    expect(() => server.tls).toThrow(/without the tls option; pass \{ tls: true \}/);
  });
});

describe('generateTestingTlsMaterial', () => {
  it('signs the server certificate for localhost and 127.0.0.1 with its own CA', () => {
    const ca = new X509Certificate(otherCa.ca);
    const server = new X509Certificate(otherCa.serverCert);
    const client = new X509Certificate(otherCa.clientCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(client.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(server.checkPrivateKey(createPrivateKey(otherCa.serverKey))).toBe(true);
    expect(client.checkPrivateKey(createPrivateKey(otherCa.clientKey))).toBe(true);
  });

  it('throws a ZookeeperTestingError that says to install openssl when there is none', async () => {
    const dir = join(otherDir, 'no-openssl');
    const attempt = generateTestingTlsMaterial(dir, { env: { PATH: '/nonexistent' } });
    await expect(attempt).rejects.toBeInstanceOf(ZookeeperTestingError);
    await expect(attempt).rejects.toThrow(
      'A TLS testing server needs the openssl command to make its certificates (none on PATH). ' +
        'Install OpenSSL (Debian/Ubuntu: apt-get install openssl) or set OPENSSL to its path.',
    );
  });
});
