import { LoggerService } from '@nestjs/common';
import { CreateMode } from '../connection/create-mode.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Stat } from '../connection/zookeeper-types.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../errors/zookeeper-errors.js';
import { decodeManifest, encodeManifest, isManifest } from './chunk-manifest.js';
import { ChunkStore, InterruptedGenerationError } from './chunk-store.js';
import { ChunkedHeads } from './chunked-heads.js';
import { ValueTooLargeError } from './storage-errors.js';
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

export interface ValueWriterConfig {
  maxNodeBytes: number;
  /** false: values above maxNodeBytes are refused instead of chunked. */
  chunking: boolean;
  logger: LoggerService;
  /** The key's path on the connection. */
  nodePath(key: string): string;
}

const INTERRUPTED_GENERATION_ATTEMPTS = 3;

/**
 * The write path of the storage: a value that fits one znode is written to the key's head; a
 * larger one is written as an immutable chunk generation (ChunkStore) and made visible by one
 * compare-and-set of the head, after which the generation it replaced is collected. A persistent
 * head holding a chunked value is flagged (ChunkedHeads), so a small write that replaces a value
 * learns from its own reply whether there may be chunks to collect: one request for a leaf key. A
 * cleanup that fails after the head switch is logged, never reported as a failed write: the write
 * is committed.
 */
export class ValueWriter {
  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly chunks: ChunkStore,
    private readonly heads: ChunkedHeads,
    private readonly config: ValueWriterConfig,
  ) {}

  async write(key: string, bytes: Buffer, request: WriteRequest): Promise<WriteResult> {
    if (this.needsChunks(key, bytes)) {
      if (request.condition.kind === 'absent' && (await this.connection.exists(this.path(key)))) {
        throw new NodeExistsError({ operation: 'create', path: this.path(key) });
      }
      return this.writeChunked(key, bytes, request);
    }
    const { condition } = request;
    if (condition.kind === 'absent') return this.createHead(key, bytes, request);
    const path = this.path(key);
    // A small write is the hot path: no extra awaits beyond the request itself (each one is a
    // promise and a microtask turn per write, which showed at 64 writes in flight).
    const replaced =
      condition.kind === 'version'
        ? this.connection.set(path, bytes, { version: condition.version })
        : // Last writer wins: an unconditional write, so concurrent writers of one key never retry.
          this.connection.set(path, bytes).catch(async (error: unknown) => {
            if (!(error instanceof NoNodeError)) throw error;
            return this.createOrSet(key, bytes, request);
          });
    const written = await replaced;
    if ('created' in written) {
      return { version: written.version, stat: written.stat };
    }
    if (mayHaveReplacedChunks(written, request)) await this.collectReplaced(key, written, request);
    return { version: written.version, stat: written };
  }

  /** The chunk generation the key's head points to, if it holds a chunked value. */
  async headGeneration(key: string): Promise<string | undefined> {
    const head = await this.readHead(this.path(key));
    return head && isManifest(head.data) ? decodeManifest(head.data).generation : undefined;
  }

  async readHead(path: string): Promise<{ data: Buffer; stat: Stat } | undefined> {
    return this.connection.get(path).catch((error) => {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    });
  }

  /**
   * Collects the key's generations no head refers to. A flagged head whose generations are all
   * gone is unflagged; a writer whose folder appeared meanwhile gets its flag back (it raises it
   * only after its head switch, so either it sees our delete or we see its folder). A failure is
   * logged (see the class).
   */
  async collectAfterCommit(key: string, flagged: boolean): Promise<void> {
    try {
      const { remaining } = await this.chunks.collect(key, () => this.headGeneration(key));
      if (!flagged || remaining > 0) return;
      await this.heads.unflag(key);
      if (await this.chunks.hasGenerations(key)) await this.heads.flag(key);
    } catch (error) {
      this.config.logger.warn(`cleanup after writing ${key}: ${(error as Error).message}`);
    }
  }

  /**
   * After a set found no head: creates it (`created`: nothing was replaced), or replaces it when
   * another writer created it meanwhile.
   */
  private async createOrSet(
    key: string,
    bytes: Buffer,
    request: WriteRequest,
  ): Promise<Stat | (WriteResult & { created: true })> {
    for (;;) {
      try {
        return { ...(await this.createHead(key, bytes, request)), created: true };
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
      try {
        return await this.connection.set(this.path(key), bytes);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
  }

  /** A small value replaced the head: the chunks of a chunked value it replaced must go. */
  private async collectReplaced(key: string, stat: Stat, request: WriteRequest): Promise<void> {
    const flaggable = isFlaggable(stat, request);
    try {
      const replacedChunks =
        request.previousHead !== undefined ||
        (flaggable ? await this.heads.isFlagged(key) : await this.chunks.hasGenerations(key));
      if (replacedChunks) await this.collectAfterCommit(key, flaggable);
    } catch (error) {
      this.config.logger.warn(`cleanup after writing ${key}: ${(error as Error).message}`);
    }
  }

  private needsChunks(key: string, bytes: Buffer): boolean {
    // Bytes that look like a manifest are chunked too, so a value can never pass for a head.
    if (bytes.length <= this.config.maxNodeBytes && !isManifest(bytes)) return false;
    if (!this.config.chunking)
      throw new ValueTooLargeError(key, bytes.length, this.config.maxNodeBytes);
    return true;
  }

  private async writeChunked(
    key: string,
    bytes: Buffer,
    request: WriteRequest,
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const retryable = (error: unknown) =>
        error instanceof InterruptedGenerationError && attempt < INTERRUPTED_GENERATION_ATTEMPTS;
      const manifest = await this.chunks.write(key, bytes).catch((error) => {
        if (retryable(error)) return undefined;
        throw error;
      });
      if (!manifest) continue;
      try {
        await this.chunks.assertIntact(key, manifest);
        const result = await this.switchHead(key, encodeManifest(manifest), request);
        // Flagged after the head switch (see ChunkedHeads); the stat is missing when the head
        // vanished right after its creation.
        const flaggable =
          (result.stat as Stat | undefined) !== undefined && isFlaggable(result.stat, request);
        await (flaggable ? this.heads.flag(key) : Promise.resolve())
          .then(() => this.chunks.finish(key, manifest))
          .then(() => this.collectAfterCommit(key, flaggable))
          .catch((error: Error) =>
            this.config.logger.warn(`cleanup after writing ${key}: ${error.message}`),
          );
        return result;
      } catch (error) {
        // Our generation will never be the head's: it is collected now, not by the next writer.
        await this.chunks.finish(key, manifest).catch(() => undefined);
        await this.chunks.collect(key, () => this.headGeneration(key)).catch(() => undefined);
        if (retryable(error)) continue;
        throw error;
      }
    }
  }

  private async switchHead(key: string, head: Buffer, request: WriteRequest): Promise<WriteResult> {
    const { condition } = request;
    // The caller collects after dropping its marker: nothing is collected here.
    if (condition.kind === 'absent') return this.createHead(key, head, request);
    if (condition.kind === 'version') return this.replaceHead(key, head, condition.version);
    for (;;) {
      const current = await this.connection.exists(this.path(key));
      try {
        return current
          ? await this.replaceHead(key, head, current.version)
          : await this.createHead(key, head, request);
      } catch (error) {
        if (!lostRace(error)) throw error;
      }
    }
  }

  private async replaceHead(key: string, bytes: Buffer, version: number): Promise<WriteResult> {
    const stat = await this.connection.set(this.path(key), bytes, { version });
    return { version: stat.version, stat };
  }

  private async createHead(
    key: string,
    bytes: Buffer,
    request: WriteRequest,
  ): Promise<WriteResult> {
    const path = this.path(key);
    const mode = request.ephemeral
      ? CreateMode.EPHEMERAL
      : request.ttlMs !== undefined
        ? CreateMode.PERSISTENT_WITH_TTL
        : CreateMode.PERSISTENT;
    await this.connection.create(path, bytes, { mode, ttlMs: request.ttlMs, createParents: true });
    const stat = await this.connection.exists(path);
    return { version: stat?.version ?? 0, stat: stat! };
  }

  private path(key: string): string {
    return this.config.nodePath(key);
  }
}

/**
 * Whether a small write may have replaced a chunked value, from what is known without a request:
 * the bytes replaced, after a read-modify-write; otherwise the reply's stat. A persistent head
 * without children is not flagged, so it held no chunked value: the write was its one request.
 * A head with children may be flagged; an ephemeral head or a TTL write is never flagged.
 */
function mayHaveReplacedChunks(stat: Stat, request: WriteRequest): boolean {
  if (request.previousHead !== undefined) return isManifest(request.previousHead);
  return stat.numChildren > 0 || !isFlaggable(stat, request);
}

/** Ephemeral heads cannot have children, and a child would keep a TTL head from expiring. */
function isFlaggable(stat: Stat, request: WriteRequest): boolean {
  return stat.ephemeralOwner === '0' && !request.ephemeral && request.ttlMs === undefined;
}

/** The key changed, appeared or vanished between our read and our write: read again and retry. */
export function lostRace(error: unknown): boolean {
  return (
    error instanceof BadVersionError ||
    error instanceof NodeExistsError ||
    error instanceof NoNodeError
  );
}
