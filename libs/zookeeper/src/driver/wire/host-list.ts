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
 * an Error for an empty list or a bad port or chroot.
 */
export function parseConnectString(connectString: string): ParsedConnectString {
  const slash = connectString.indexOf('/');
  const hostPart = slash < 0 ? connectString : connectString.slice(0, slash);
  let chroot = slash < 0 ? '' : connectString.slice(slash);
  while (chroot.endsWith('/')) chroot = chroot.slice(0, -1);
  if (chroot.includes('//')) throw new Error(`invalid chroot in '${connectString}'`);
  const hosts = hostPart
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => parseHost(entry, connectString));
  if (hosts.length === 0) throw new Error(`no host in the connect string '${connectString}'`);
  return { hosts, chroot };
}

function parseHost(entry: string, connectString: string): HostAddress {
  let host = entry;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) throw new Error(`unclosed '[' in '${connectString}'`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest.length > 0) throw new Error(`bad host '${entry}' in '${connectString}'`);
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon >= 0) {
      host = entry.slice(0, colon);
      portText = entry.slice(colon + 1);
    }
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`bad host '${entry}' in '${connectString}'`);
  }
  return { host, port };
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
