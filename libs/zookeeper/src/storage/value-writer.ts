import { LoggerService } from '@nestjs/common';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { Stat } from '../connection/zookeeper-types.js';
import { NodeExistsError, NoNodeError } from '../errors/zookeeper-errors.js';
import { whenNoNode } from '../internal/no-node.js';
import { ChunkManifest, decodeManifest, isManifest } from './chunk-manifest.js';
import { ChunkStore, InterruptedGenerationError, ttlChunkMarginMs } from './chunk-store.js';
import { ChunkedHeads } from './chunked-heads.js';
import { HeadSwitch, WriteRequest } from './head-switch.js';
import { ValueTooLargeError } from './storage-errors.js';
import { WriteResult } from './storage-entry.js';

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
  private readonly headSwitch: HeadSwitch;

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly chunks: ChunkStore,
    private readonly heads: ChunkedHeads,
    private readonly config: ValueWriterConfig,
  ) {
    this.headSwitch = new HeadSwitch(connection, chunks, (key) => this.path(key));
  }

  async write(key: string, bytes: Buffer, request: WriteRequest): Promise<WriteResult> {
    if (this.needsChunks(key, bytes)) {
      if (request.condition.kind === 'absent' && (await this.connection.exists(this.path(key)))) {
        throw new NodeExistsError({ operation: 'create', path: this.path(key) });
      }
      return this.writeChunked(key, bytes, request);
    }
    const { condition } = request;
    if (condition.kind === 'absent') return this.headSwitch.create(key, bytes, request);
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
    return this.connection.get(path).catch(whenNoNode(undefined));
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
        return { ...(await this.headSwitch.create(key, bytes, request)), created: true };
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

  /**
   * Writes a new generation, then switches the head to it; reports success only for a value that
   * can be read: a generation that lost its marker before the switch is written anew, and
   * without a fenced switch (no `multi`) the generation is checked complete after the switch and,
   * if a collector took it meanwhile, written anew over our own head. (In that case a reader may
   * see the key unreadable until the new head is in place, and a crash then leaves it so.)
   */
  private async writeChunked(
    key: string,
    bytes: Buffer,
    request: WriteRequest,
  ): Promise<WriteResult> {
    const lifetime = { ephemeral: request.ephemeral, ttlMs: request.ttlMs };
    let current = request;
    for (let attempt = 1; ; attempt++) {
      const retryable = (error: unknown) =>
        error instanceof InterruptedGenerationError && attempt < INTERRUPTED_GENERATION_ATTEMPTS;
      const started = Date.now();
      const manifest = await this.chunks.write(key, bytes, lifetime).catch((error) => {
        if (retryable(error)) return undefined;
        throw error;
      });
      if (!manifest) continue;
      let result: WriteResult;
      try {
        await this.chunks.assertIntact(key, manifest);
        assertOutlivesHead(key, manifest, request, Date.now() - started);
        result = await this.headSwitch.switchTo(key, manifest, current);
      } catch (error) {
        // Our generation will never be the head's: it is collected now, not by the next writer.
        await this.chunks.finish(key, manifest).catch(() => undefined);
        await this.chunks.collect(key, () => this.headGeneration(key)).catch(() => undefined);
        if (retryable(error)) continue;
        throw error;
      }
      if (!this.headSwitch.fenced && !(await this.chunks.isComplete(key, manifest))) {
        // The head is ours now, whatever the caller's condition was: write over it.
        current = { ...request, condition: { kind: 'version', version: result.version } };
        if (attempt < INTERRUPTED_GENERATION_ATTEMPTS) continue;
        throw new InterruptedGenerationError(
          `generation ${manifest.generation} of ${key} was collected during the head switch`,
        );
      }
      await this.afterSwitch(key, manifest, result, request);
      return result;
    }
  }

  /** Flags, drops the marker and collects what the switch replaced; failures are logged. */
  private afterSwitch(
    key: string,
    manifest: ChunkManifest,
    result: WriteResult,
    request: WriteRequest,
  ): Promise<void> {
    // Flagged after the head switch (see ChunkedHeads); the stat is missing when the head
    // vanished right after its creation.
    const flaggable =
      (result.stat as Stat | undefined) !== undefined && isFlaggable(result.stat, request);
    return (flaggable ? this.heads.flag(key) : Promise.resolve())
      .then(() => this.chunks.finish(key, manifest))
      .then(() => this.collectAfterCommit(key, flaggable))
      .catch((error: Error) =>
        this.config.logger.warn(`cleanup after writing ${key}: ${error.message}`),
      );
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

/** The chunks of a TTL value outlive its head only by a margin: a slower write starts over. */
function assertOutlivesHead(
  key: string,
  manifest: ChunkManifest,
  request: WriteRequest,
  elapsedMs: number,
): void {
  if (request.ttlMs === undefined || elapsedMs <= ttlChunkMarginMs(request.ttlMs)) return;
  throw new InterruptedGenerationError(
    `generation ${manifest.generation} of ${key} took ${elapsedMs} ms to write, longer than ` +
      'its chunks outlive the TTL value',
  );
}
