import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ZookeeperTestingError } from '../errors/library-errors.js';
import { canInstallWithApt, isExecutable, runLogged, whichSync } from './zookeeper-installation.js';
import type { ZookeeperConfigValue } from './zookeeper-jvm-config.js';

/** Whether the secure port asks clients for a certificate (ZooKeeper's `ssl.clientAuth`). */
export type ZookeeperTlsClientAuth = 'need' | 'want' | 'none';

/** TLS settings of a testing server's (or cluster node's) secure client port. */
export interface ZookeeperTestingTlsOptions {
  /**
   * 'need' refuses clients without a certificate signed by the generated CA; 'want' asks for one
   * but lets clients without one in; 'none' never asks. Default 'none'.
   */
  clientAuth?: ZookeeperTlsClientAuth;
  /** Secure client port on 127.0.0.1 (standalone server only); default a free one. */
  port?: number;
}

/**
 * PEM certificates and keys made for tests by `generateTestingTlsMaterial`: a throwaway CA, a
 * server certificate for `localhost` and `127.0.0.1` and a client certificate, both signed by it.
 */
export interface ZookeeperTestingTlsMaterial {
  /** The CA certificate (PEM) that signed `serverCert` and `clientCert`. */
  ca: string;
  /** Server certificate (PEM), SAN `DNS:localhost, IP:127.0.0.1`, CN `localhost`. */
  serverCert: string;
  /** Unencrypted PKCS#8 private key (PEM) of `serverCert`. */
  serverKey: string;
  /** Client certificate (PEM), CN `nestjs-zookeeper test client`, usable for `clientAuth`. */
  clientCert: string;
  /** Unencrypted PKCS#8 private key (PEM) of `clientCert`. */
  clientKey: string;
  /** The files the PEMs were written to (and read back from). */
  files: {
    ca: string;
    /** Server key followed by the server certificate: ZooKeeper's PEM key store. */
    serverKeyStore: string;
    clientCert: string;
    clientKey: string;
  };
}

/** What a TLS client needs to reach a testing server's secure client port. */
export interface ZookeeperTestingTls {
  /** The secure client port on 127.0.0.1; the plain `port` keeps working beside it. */
  port: number;
  /** `127.0.0.1:<secure port>` (a cluster: all nodes' secure addresses, comma-separated). */
  connectString: string;
  /** The `ssl.clientAuth` the server runs with. */
  clientAuth: ZookeeperTlsClientAuth;
  /** The CA certificate (PEM) that signed the server's certificate: pass it as `ca`. */
  ca: string;
  /** A client certificate (PEM) signed by `ca`; the server accepts it under every `clientAuth`. */
  clientCert: string;
  /** Unencrypted private key (PEM) of `clientCert`. */
  clientKey: string;
  /** `'localhost'`: a name the server certificate holds (it also holds the IP 127.0.0.1). */
  servername: string;
}

/** The SAN DNS name of generated server certificates. */
export const TESTING_TLS_SERVERNAME = 'localhost';

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

// A week covers any test run; the certificates are regenerated for every new base directory.
const VALID_DAYS = '7';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The `openssl` executable (`$OPENSSL`, else on PATH), or `undefined` when there is none. */
export function findOpenssl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENSSL) return isExecutable(env.OPENSSL) ? env.OPENSSL : undefined;
  return whichSync('openssl', env);
}

/**
 * @internal For scripts/ensure-zookeeper.ts: the `openssl` that TLS testing servers use; when
 * missing and running as root on Debian/Ubuntu, installs Debian's `openssl` package with apt-get.
 * Resolves with a reason instead of throwing when there is none, since only `tls` needs it.
 */
export async function ensureOpenssl(
  log: (line: string) => void,
): Promise<{ path: string } | { missing: string }> {
  const found = findOpenssl();
  if (found) return { path: found };
  if (process.env.OPENSSL)
    return { missing: `OPENSSL=${process.env.OPENSSL} is not an executable` };
  const blocker = canInstallWithApt();
  if (blocker) return { missing: `openssl not found, and ${blocker}` };
  log('openssl not found (TLS testing servers need it); installing openssl with apt-get');
  try {
    await runLogged('apt-get', ['update'], log);
    await runLogged('apt-get', ['install', '-y', '--no-install-recommends', 'openssl'], log);
  } catch (error) {
    return { missing: `installing openssl failed: ${(error as Error).message}` };
  }
  const installed = findOpenssl();
  return installed ? { path: installed } : { missing: 'openssl still not on PATH after apt-get' };
}

function runOpenssl(openssl: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(openssl, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) =>
      reject(
        new ZookeeperTestingError(
          `Cannot run ${openssl} to make test certificates: ${error.message}. ` +
            'Install OpenSSL (Debian/Ubuntu: apt-get install openssl) or set OPENSSL to its path.',
          error,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new ZookeeperTestingError(
              `openssl ${args.slice(0, 2).join(' ')} failed (exit code ${code}) making test ` +
                `certificates in ${cwd}:\n${stderr.trim()}\n` +
                'Check that the openssl on PATH (or $OPENSSL) is OpenSSL 1.1.1 or newer.',
            ),
          ),
    );
  });
}

/**
 * Writes a new CA, a server certificate for localhost/127.0.0.1 and a client certificate (EC
 * P-256, valid 7 days) into `dir` with the `openssl` command, and returns them as PEM strings.
 * Throws `ZookeeperTestingError` when openssl is missing or fails.
 */
export async function generateTestingTlsMaterial(
  dir: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<ZookeeperTestingTlsMaterial> {
  const env = options.env ?? process.env;
  const openssl = findOpenssl(env);
  if (!openssl) {
    const where = env.OPENSSL ? `OPENSSL=${env.OPENSSL} is not an executable` : 'none on PATH';
    throw new ZookeeperTestingError(
      `A TLS testing server needs the openssl command to make its certificates (${where}). ` +
        'Install OpenSSL (Debian/Ubuntu: apt-get install openssl) or set OPENSSL to its path.',
    );
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const id = randomBytes(4).toString('hex');
  const serial = (): string => `0x${randomBytes(8).toString('hex')}`;
  const run = (args: string[]): Promise<void> => runOpenssl(openssl, args, dir);
  // The CA first; then each leaf: a key and request, signed by the CA with its extensions.
  const words = (text: string): string[] => text.split(' ');
  await run([
    ...words('req -x509 -keyout ca.key -out ca.pem -config openssl.cnf -extensions ca'),
    ...EC_KEY,
    ...words(`-days ${VALID_DAYS} -set_serial ${serial()}`),
    ...['-subj', `/CN=nestjs-zookeeper test CA ${id}`],
  ]);
  const leaf = async (name: string, subject: string): Promise<void> => {
    await run([
      ...words(`req -new -keyout ${name}.key -out ${name}.csr -config openssl.cnf`),
      ...EC_KEY,
      ...['-subj', subject],
    ]);
    await run([
      ...words(`x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -out ${name}.pem -sha256`),
      ...words(`-extfile openssl.cnf -extensions ${name} -days ${VALID_DAYS}`),
      ...words(`-set_serial ${serial()}`),
    ]);
  };
  await Promise.all([
    leaf('server', `/CN=${TESTING_TLS_SERVERNAME}`),
    leaf('client', '/CN=nestjs-zookeeper test client'),
  ]);
  const read = (name: string): Promise<string> =>
    readFile(join(dir, name), 'utf8').catch((error: Error) => {
      throw new ZookeeperTestingError(
        `openssl did not write ${name} in ${dir} (${error.message}); check that it is OpenSSL 1.1.1 or newer.`,
        error,
      );
    });
  const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
    ['ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key'].map(read),
  );
  if (
    ![ca, serverCert, serverKey, clientCert, clientKey].every((pem) => pem.includes('-----BEGIN'))
  )
    throw new ZookeeperTestingError(
      `openssl wrote no PEM files in ${dir}; check that it is OpenSSL 1.1.1 or newer.`,
    );
  // ZooKeeper's PEM key store: the private key and the certificate in one file.
  const serverKeyStore = join(dir, 'server-keystore.pem');
  await writeFile(serverKeyStore, `${serverKey.trimEnd()}\n${serverCert}`);
  return {
    ca,
    serverCert,
    serverKey,
    clientCert,
    clientKey,
    files: {
      ca: join(dir, 'ca.pem'),
      serverKeyStore,
      clientCert: join(dir, 'client.pem'),
      clientKey: join(dir, 'client.key'),
    },
  };
}

/**
 * @internal zoo.cfg entries for a secure client port. PEM key and trust stores (ZooKeeper 3.5.5+)
 * need no keytool run (a JVM start each) and no PKCS12 trust entries, which OpenSSL before 3.2
 * cannot mark as trusted for Java. Netty serves both ports once it is the connection factory.
 */
export function tlsZooCfg(
  material: ZookeeperTestingTlsMaterial,
  securePort: number,
  clientAuth: ZookeeperTlsClientAuth,
): Record<string, ZookeeperConfigValue> {
  return {
    secureClientPort: securePort,
    secureClientPortAddress: '127.0.0.1',
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'ssl.keyStore.location': material.files.serverKeyStore,
    'ssl.keyStore.type': 'PEM',
    'ssl.trustStore.location': material.files.ca,
    'ssl.trustStore.type': 'PEM',
    'ssl.clientAuth': clientAuth,
  };
}

/** @internal `{ clientAuth, port }` from the `tls` option, or `undefined` without TLS. */
export function normalizeTlsOption(
  tls: boolean | ZookeeperTestingTlsOptions | undefined,
): (Required<Pick<ZookeeperTestingTlsOptions, 'clientAuth'>> & { port?: number }) | undefined {
  if (!tls) return undefined;
  const options = tls === true ? {} : tls;
  const clientAuth = options.clientAuth ?? 'none';
  if (!['need', 'want', 'none'].includes(clientAuth))
    throw new ZookeeperTestingError(
      `tls.clientAuth must be 'need', 'want' or 'none', got ${JSON.stringify(clientAuth)}`,
    );
  return { clientAuth, port: options.port };
}

/**
 * @internal Readiness of a secure port: a TLS handshake that trusts only the generated CA and
 * presents the generated client certificate completes within `timeoutMs`.
 */
export function isTlsHandshakeOk(
  port: number,
  material: Pick<ZookeeperTestingTlsMaterial, 'ca' | 'clientCert' | 'clientKey'>,
  timeoutMs = 1_000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: material.ca,
      cert: material.clientCert,
      key: material.clientKey,
      servername: TESTING_TLS_SERVERNAME,
    });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(socket.authorized));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
