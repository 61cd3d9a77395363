import type { Member } from 'nestjs-zookeeper';

/** What a client joins the group with: enough for the master to tell clients apart and call them. */
export interface ClientRegistration {
  name: string;
  pid: number;
  port: number;
  startedAt: string;
}

/** A member of /clients as the master lists it: its node name and what the client wrote. */
export interface RegisteredClient extends Partial<ClientRegistration> {
  /** The Membership node name, `_c_<uuid>-member-<seq>`. */
  node: string;
}

const FIELDS = { name: 'string', pid: 'number', port: 'number', startedAt: 'string' } as const;

/**
 * Tolerant: a member written by some other tool (a string, a different shape) must not stop the
 * master from listing the rest, so only the fields of the expected type are kept.
 */
export function toRegisteredClient(member: Member<unknown>): RegisteredClient {
  const client: Record<string, unknown> = { node: member.id };
  const data = member.data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const [key, type] of Object.entries(FIELDS)) {
      const value = (data as Record<string, unknown>)[key];
      if (typeof value === type) client[key] = value;
    }
  }
  return client as unknown as RegisteredClient;
}
