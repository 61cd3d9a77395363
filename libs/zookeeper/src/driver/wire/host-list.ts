import { InvalidOptionsError } from '../../errors/library-errors.js';

export interface HostAddress {
  host: string;
  port: number;
}

export interface ParsedConnectString {
  hosts: HostAddress[];
  /** The chroot without a trailing slash, '' for none. */
  chroot: string;
}

const DEFAULT_PORT = 2181;

/**
 * Parses 'host:port,host:port[/chroot]' (IPv6 hosts in brackets, port 2181 by default). Throws
 * InvalidOptionsError for an empty list or a bad host, port or chroot.
 */
export function parseConnectString(connectString: string): ParsedConnectString {
  const slash = connectString.indexOf('/');
  const hostPart = slash < 0 ? connectString : connectString.slice(0, slash);
  let chroot = slash < 0 ? '' : connectString.slice(slash);
  while (chroot.endsWith('/')) chroot = chroot.slice(0, -1);
  if (chroot.includes('//')) {
    throw new InvalidOptionsError(
      `connectString '${connectString}' has a chroot with an empty segment ('//'): ` +
        "write it as '/app' or '/app/sub', e.g. 'zk1:2181,zk2:2181/app'",
    );
  }
  const hosts = hostPart
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => parseHost(entry, connectString));
  if (hosts.length === 0) {
    throw new InvalidOptionsError(
      `connectString '${connectString}' names no server: expected host:port, e.g. 'zk1:2181,zk2:2181'`,
    );
  }
  return { hosts, chroot };
}

function parseHost(entry: string, connectString: string): HostAddress {
  let host = entry;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) throw badHost(entry, connectString, "its '[' is not closed");
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest.length > 0) throw badHost(entry, connectString, "only ':port' may follow ']'");
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon >= 0) {
      host = entry.slice(0, colon);
      portText = entry.slice(colon + 1);
    }
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!host) throw badHost(entry, connectString, 'it has no host name before the port');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw badHost(entry, connectString, 'its port is not a number from 1 to 65535');
  }
  return { host, port };
}

function badHost(entry: string, connectString: string, problem: string): InvalidOptionsError {
  return new InvalidOptionsError(
    `connectString '${connectString}' has a bad server entry '${entry}' (${problem}): expected ` +
      "host:port, e.g. 'zk1:2181,zk2:2181', an IPv6 address in brackets, e.g. '[::1]:2181'",
  );
}

/**
 * The servers of a connect string in a random order, taken round-robin. `next()` returns the next
 * server and whether a whole round of the list has passed since the last `success()`.
 */
export class HostList {
  private readonly hosts: HostAddress[];
  private index = -1;
  private triedSinceSuccess = 0;

  constructor(hosts: readonly HostAddress[], random: () => number = Math.random) {
    this.hosts = [...hosts];
    for (let i = this.hosts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.hosts[i], this.hosts[j]] = [this.hosts[j], this.hosts[i]];
    }
  }

  get size(): number {
    return this.hosts.length;
  }

  /** The order the servers are tried in. */
  get order(): readonly HostAddress[] {
    return this.hosts;
  }

  /** The next server; `roundFailed` when every server was tried since the last success. */
  next(): { address: HostAddress; roundFailed: boolean } {
    this.index = (this.index + 1) % this.hosts.length;
    const roundFailed = this.triedSinceSuccess > 0 && this.triedSinceSuccess % this.size === 0;
    this.triedSinceSuccess++;
    return { address: this.hosts[this.index], roundFailed };
  }

  /** A server accepted the session. */
  success(): void {
    this.triedSinceSuccess = 0;
  }

  /** Full rounds tried without a success. */
  get failedRounds(): number {
    return Math.floor(this.triedSinceSuccess / this.size);
  }
}
