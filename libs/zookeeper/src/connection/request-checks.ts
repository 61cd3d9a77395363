import { Acl } from '../driver/driver-types.js';
import { parseConnectString } from '../driver/wire/index.js';
import { InvalidOptionsError } from '../errors/library-errors.js';

/**
 * Catches typos early: every server is `host:port` with a port in range (chroot suffix allowed),
 * and the whole parses as the wire driver reads it (a host before the port, IPv6 brackets closed,
 * no empty chroot segment), so no driver is left retrying a connect string it cannot use.
 */
export function validateConnectString(connectString: unknown): asserts connectString is string {
  if (typeof connectString !== 'string' || connectString.trim() === '')
    throw new InvalidOptionsError("'connectString' is required, e.g. '127.0.0.1:2181'");
  const servers = connectString.split('/')[0].split(',');
  for (const server of servers.map((entry) => entry.trim())) {
    const port = /:(\d+)$/.exec(server)?.[1];
    if (!server || port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw new InvalidOptionsError(
        `connectString '${connectString}' has a bad server entry '${server}': expected host:port, e.g. 'zk1:2181,zk2:2181'`,
      );
    }
  }
  parseConnectString(connectString);
}

/** The largest znode version: versions are 32-bit ints on the wire. */
export const MAX_VERSION = 0x7fffffff;

/**
 * A version to compare against: an integer from -1 (any version) to MAX_VERSION. Anything else
 * (NaN, 1.5, 2^31) would be written as another version or fail the encoder with a RangeError.
 */
export function checkVersion(owner: string, name: string, version: unknown): void {
  if (version === undefined) return;
  if (
    typeof version !== 'number' ||
    !Number.isInteger(version) ||
    version < -1 ||
    version > MAX_VERSION
  ) {
    throw new InvalidOptionsError(
      `${owner}: '${name}' must be an integer from -1 (any version) to ${MAX_VERSION}, got ${typeof version === 'number' ? version : typeof version}`,
    );
  }
}

export function toBuffer(data: Buffer | string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new InvalidOptionsError(`node data must be a Buffer or a string, got ${typeof data}`);
}

/** An ACL the server would refuse (empty, or an entry without a scheme, id or valid perms). */
export function assertAcl(acl: readonly Acl[], path: string): void {
  if (!Array.isArray(acl) || acl.length === 0)
    throw new InvalidOptionsError(`an ACL needs at least one entry (${path})`);
  for (const entry of acl) {
    if (
      typeof entry?.scheme !== 'string' ||
      typeof entry.id !== 'string' ||
      !Number.isInteger(entry.perms) ||
      entry.perms < 0 ||
      entry.perms > 31
    ) {
      throw new InvalidOptionsError(
        `an ACL entry needs a scheme, an id and perms from 0 to 31 (${path}), got ${JSON.stringify(entry)}`,
      );
    }
  }
}
