/** What a client writes into its node: enough for the master to tell clients apart and call them. */
export interface ClientRegistration {
  name: string;
  pid: number;
  port: number;
  startedAt: string;
}

export function encodeRegistration(registration: ClientRegistration): string {
  return JSON.stringify(registration);
}

/** Tolerant: a node written by some other tool must not stop the master from listing the rest. */
export function decodeRegistration(data: Buffer): Partial<ClientRegistration> {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as Partial<ClientRegistration>)
      : {};
  } catch {
    return {};
  }
}

/** The sequence number ZooKeeper appended, which orders clients by registration time. */
export function sequenceOf(node: string): number {
  const match = /(\d{10})$/.exec(node);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}
