import { CreateMode } from '../connection/create-mode.enum.js';
import { parentPath } from '../connection/paths.js';
import { TransactionOp } from '../connection/transaction.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Stat } from '../connection/zookeeper-types.js';
import { TransactionFailedError } from '../errors/driver-errors.js';
import {
  BadVersionError,
  ConnectionLossError,
  NodeExistsError,
  NoNodeError,
} from '../errors/zookeeper-errors.js';
import { ChunkManifest, encodeManifest } from './chunk-manifest.js';
import { ChunkStore, InterruptedGenerationError } from './chunk-store.js';
import { WriteResult } from './storage-entry.js';

/** When a write may go ahead: the key must not exist, must be at a version, or anything goes. */
export type WriteCondition =
  { kind: 'absent' } | { kind: 'version'; version: number } | { kind: 'any' };

export interface WriteRequest {
  condition: WriteCondition;
  ephemeral?: boolean;
  ttlMs?: number;
  /** The head bytes the caller read, when known (saves a collector round trip). */
  previousHead?: Buffer;
}

/**
 * Writes a key's head znode. Switching a head to a chunk generation is fenced when the driver has
 * `multi`: one transaction checks the generation's writing marker and writes the head, so a
 * writer whose session expired after it checked its generation (the marker went with the
 * session, and a collector may have removed the generation since) cannot point the head at it.
 * Without `multi` the switch is a plain write, and the writer checks afterwards that the
 * generation is complete (see ValueWriter).
 */
export class HeadSwitch {
  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly chunks: ChunkStore,
    private readonly nodePath: (key: string) => string,
  ) {}

  /** Whether a switch is checked against the generation's marker by the server. */
  get fenced(): boolean {
    return this.connection.capabilities.multi;
  }

  /** Creates the head (and its parents) with the request's lifetime. */
  async create(key: string, bytes: Buffer, request: WriteRequest): Promise<WriteResult> {
    const path = this.nodePath(key);
    await this.connection.create(path, bytes, {
      ...headLifetime(request),
      createParents: true,
    });
    const stat = await this.connection.exists(path);
    return { version: stat?.version ?? 0, stat: stat! };
  }

  /** Points the head at `manifest`'s generation under the request's condition. */
  async switchTo(
    key: string,
    manifest: ChunkManifest,
    request: WriteRequest,
  ): Promise<WriteResult> {
    const head = encodeManifest(manifest);
    const { condition } = request;
    if (condition.kind === 'absent') return this.createAt(key, head, manifest, request);
    if (condition.kind === 'version') return this.setAt(key, head, manifest, condition.version);
    for (;;) {
      const current = await this.connection.exists(this.nodePath(key));
      try {
        return current
          ? await this.setAt(key, head, manifest, current.version)
          : await this.createAt(key, head, manifest, request);
      } catch (error) {
        if (!lostRace(error)) throw error;
      }
    }
  }

  private async setAt(
    key: string,
    head: Buffer,
    manifest: ChunkManifest,
    version: number,
  ): Promise<WriteResult> {
    const path = this.nodePath(key);
    const stat = this.fenced
      ? (await this.fencedWrite(key, manifest, { type: 'set', path, data: head, version }, head))!
      : await this.connection.set(path, head, { version });
    return { version: stat.version, stat };
  }

  private async createAt(
    key: string,
    head: Buffer,
    manifest: ChunkManifest,
    request: WriteRequest,
  ): Promise<WriteResult> {
    if (!this.fenced) return this.create(key, head, request);
    const path = this.nodePath(key);
    const op: TransactionOp = { type: 'create', path, data: head, ...headLifetime(request) };
    const stat = await this.fencedWrite(key, manifest, op, head).catch(async (error: unknown) => {
      // A transaction cannot create parents: create them, then once more.
      if (!(error instanceof NoNodeError)) throw error;
      await this.connection.mkdirp(parentPath(path));
      return this.fencedWrite(key, manifest, op, head);
    });
    // The stat is missing when the head vanished right after its creation (an expiring TTL).
    return { version: stat?.version ?? 0, stat: stat! };
  }

  /**
   * `op` on the head, applied only while the generation's writing marker exists. Fails like the
   * plain write would (NoNode, NodeExists, BadVersion), or with InterruptedGenerationError when
   * the marker is gone.
   */
  private async fencedWrite(
    key: string,
    manifest: ChunkManifest,
    op: TransactionOp,
    head: Buffer,
  ): Promise<Stat | undefined> {
    const marker = this.chunks.markerPath(key, manifest);
    try {
      const [, written] = await this.connection.multi([
        { type: 'check', path: marker, version: 0 },
        op,
      ]);
      if (written.type === 'set') return written.stat;
    } catch (error) {
      if (error instanceof TransactionFailedError) {
        if (error.index === 0) {
          throw new InterruptedGenerationError(
            `generation ${manifest.generation} of ${key} lost its writing marker before the head ` +
              'switch (its session ended): not switched to',
          );
        }
        throw error.failure;
      }
      if (!(error instanceof ConnectionLossError)) throw error;
      // A lost reply: applied if the head holds our manifest now; else written anew.
      const now = await this.connection.get(op.path).catch(() => undefined);
      if (now?.data.equals(head)) return now.stat;
      throw new InterruptedGenerationError(
        `the head switch to generation ${manifest.generation} of ${key} lost its reply`,
      );
    }
    return this.connection.exists(op.path);
  }
}

function headLifetime(request: WriteRequest): { mode: CreateMode; ttlMs?: number } {
  if (request.ephemeral) return { mode: CreateMode.EPHEMERAL };
  if (request.ttlMs !== undefined)
    return { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: request.ttlMs };
  return { mode: CreateMode.PERSISTENT };
}

/** The key changed, appeared or vanished between our read and our write: read again and retry. */
export function lostRace(error: unknown): boolean {
  return (
    error instanceof BadVersionError ||
    error instanceof NodeExistsError ||
    error instanceof NoNodeError
  );
}
