import { LoggerService } from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { joinPath, nodeName, sequenceNumber, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { SerializationError } from '../../codec/serialization-error.js';
import { PersistentEphemeralNode } from '../persistent-node/index.js';
import { watchChildrenData } from '../../watch/children-data.js';

/** A member of a group as read from ZooKeeper. */
export interface Member<T = unknown> {
  /** The member's znode name, e.g. `_c_1f0e…-member-0000000004`. */
  readonly id: string;
  /** The data parsed as JSON when it is valid JSON (UTF-8), else the string itself. */
  readonly data: T;
  /** The znode's sequence number: lower joined earlier. */
  readonly joinedOrder: number;
}

/** This process's membership in one group. */
export interface MembershipHandle {
  /** The current znode name; it changes when the node is re-created after a session expiry. */
  readonly id: string;
  /** The current znode path. */
  readonly path: string;
  /** Replaces this member's data; resolves once it is written. */
  update(data: unknown): Promise<void>;
  /** Deletes the member's node; idempotent. */
  leave(): Promise<void>;
}

export interface MembershipOptions {
  logger?: LoggerService;
}

const MEMBER_PREFIX = 'member-';

/**
 * A joined member stays in the group while its process runs and can reach ZooKeeper, and
 * `members$` converges to the group's current members and data, sorted by join order. Across a
 * partition a member is absent between its session's expiry and its re-join, and `members$` may
 * miss short-lived changes.
 *
 * Layout of this group membership: each member is a protected EPHEMERAL_SEQUENTIAL znode
 * `<group>/_c_<uuid>-member-<10-digit sequence>` holding the member's data (a Buffer as is,
 * anything else as JSON), kept by a {@link PersistentEphemeralNode}.
 *
 * Guaranteed:
 * - A joined member stays in the group while its process runs and can reach ZooKeeper: after a
 *   session expiry it joins again with its latest data under a new name and a higher sequence
 *   number (its `id` and `joinedOrder` change), a stale node of its dead session being deleted
 *   first, so a member never appears twice for longer than the server takes to expire a session
 *   that the client gave up on.
 * - A member whose process dies (or loses its session) disappears within the session timeout.
 * - `members$` converges to the group's current members and data, sorted by join order.
 *
 * Not guaranteed (partitions, pauses):
 * - A view free of gaps. A member is absent from the group between its session expiry and its
 *   re-join, and `members$` coalesces changes: a member that joins and leaves, or data that
 *   changes several times, between two reads may never be seen.
 */
export class Membership {
  private readonly handles = new Map<string, Set<MembershipHandle>>();

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly options: MembershipOptions = {},
  ) {}

  /** Joins `group` (a path; created as a persistent node if missing). */
  async join(group: string, data: unknown = null): Promise<MembershipHandle> {
    validatePath(group, 'join');
    const node = new PersistentEphemeralNode(
      this.connection,
      joinPath(group, MEMBER_PREFIX),
      encodeMemberData(data),
      { sequential: true, logger: this.options.logger },
    );
    await node.start();
    const joined = this.handles.get(group) ?? new Set<MembershipHandle>();
    this.handles.set(group, joined);
    const handle = new JoinedMember(node, () => joined.delete(handle));
    joined.add(handle);
    return handle;
  }

  /** The members of `group` sorted by join order, re-emitted on every observed change. */
  members$<T = unknown>(group: string): Observable<Member<T>[]> {
    validatePath(group, 'members$');
    return watchChildrenData(this.connection, group).pipe(
      map((children) =>
        [...children]
          .map(([id, node]) => ({
            id,
            data: decodeMemberData(node.data) as T,
            joinedOrder: sequenceNumber(id) ?? -1,
          }))
          .sort((a, b) => a.joinedOrder - b.joinedOrder || (a.id < b.id ? -1 : 1)),
      ),
    );
  }

  /** Leaves `group` with every handle joined through this instance, or every group if omitted. */
  async leave(group?: string): Promise<void> {
    const groups = group === undefined ? [...this.handles.keys()] : [group];
    const handles = groups.flatMap((name) => [...(this.handles.get(name) ?? [])]);
    await Promise.all(handles.map((handle) => handle.leave()));
  }
}

class JoinedMember implements MembershipHandle {
  private lastPath = '';

  constructor(
    private readonly node: PersistentEphemeralNode,
    private readonly forget: () => void,
  ) {}

  get id(): string {
    return nodeName(this.path);
  }

  /** After `leave()`, the last path the member had. */
  get path(): string {
    this.lastPath = this.node.path ?? this.lastPath;
    return this.lastPath;
  }

  update(data: unknown): Promise<void> {
    return this.node.update(encodeMemberData(data));
  }

  leave(): Promise<void> {
    this.forget();
    return this.node.close();
  }
}

/**
 * A Buffer is stored as is; any other value as JSON. A value without a JSON form (undefined, a
 * function, a BigInt, a cycle) is refused with SerializationError.
 */
export function encodeMemberData(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const subject = 'the member data (a Buffer is stored as is, any other value as JSON)';
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    throw new SerializationError(subject, 'serialize', error);
  }
  if (json === undefined) {
    const what = data === undefined ? 'undefined' : `a ${typeof data}`;
    throw new SerializationError(subject, 'serialize', new Error(`${what} has no JSON form`));
  }
  return Buffer.from(json, 'utf8');
}

/** Parsed JSON when the bytes are JSON, else the UTF-8 string (written by another client). */
export function decodeMemberData(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
