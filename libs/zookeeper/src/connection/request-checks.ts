import { InvalidOptionsError } from '../errors/library-errors.js';

/** Catches typos early: every server is `host:port` with a port in range (chroot suffix allowed). */
export function validateConnectString(connectString: string): void {
  const servers = connectString.split('/')[0].split(',');
  for (const server of servers.map((entry) => entry.trim())) {
    const port = /:(\d+)$/.exec(server)?.[1];
    if (!server || port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw new InvalidOptionsError(
        `connectString '${connectString}' has a bad server entry '${server}': expected host:port, e.g. 'zk1:2181,zk2:2181'`,
      );
    }
  }
}

export function toBuffer(data: Buffer | string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new InvalidOptionsError(`node data must be a Buffer or a string, got ${typeof data}`);
}
