import { randomUUID } from 'node:crypto';
import { CreateMode } from '../connection/create-mode.enum.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NoNodeError, NotEmptyError } from '../errors/zookeeper-errors.js';
import { ignoreNodeExists, ignoreNoNode, whenNoNode } from '../internal/no-node.js';
import { ChunkManifest, chunkName, sha256 } from './chunk-manifest.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';
import { LibraryErrorCode } from '../errors/library-errors.js';
import { CorruptValueError } from './storage-errors.js';

/** Marker (ephemeral) that a generation is being written by a live session. */
const WRITING_MARKER = '__writing';
/** Chunk writes in flight at once: enough to fill the pipe, few enough to bound memory. */
const CHUNKS_IN_FLIGHT = 8;

/**
 * How long the chunks of a value live: with the writer's session (ephemeral value), a while
 * longer than the value's TTL (TTL value), or until collected (persistent value).
 */
export interface ChunkLifetime {
  ephemeral?: boolean;
  ttlMs?: number;
}

/**
 * The chunks of a TTL value outlive its head by this margin (at least 5 s, at most 60 s), which
 * covers the time between the first chunk and the head switch; a generation that took longer to
 * write is never switched to (see ValueWriter).
 */
export function ttlChunkMarginMs(ttlMs: number): number {
  return Math.min(60_000, Math.max(5_000, ttlMs));
}

function chunkTtlMs(ttlMs: number): number {
  return ttlMs + ttlChunkMarginMs(ttlMs);
}

/** A chunk went missing while reading: the head moved on and its old generation was collected. */
export class StaleGenerationError extends ZookeeperError {
  constructor(message: string) {
    super(LibraryErrorCode.STALE_GENERATION, message);
  }
}

/** A generation was interrupted (its session died, or it was collected) before the head switch. */
export class InterruptedGenerationError extends ZookeeperError {
  constructor(message: string) {
    super(LibraryErrorCode.INTERRUPTED_GENERATION, message);
  }
}

/**
 * Chunk generations of large values, under `<root>/__chunks/<encoded key>/<generation>/` (the
 * layout every version of the storage used; the head of a persistent key also gets a flag child,
 * see ChunkedHeads).
 * A generation is immutable once written; the head znode (the key) is switched to it by one
 * compare-and-set, so a reader sees the old value or the new one, never a mix. Order matters for
 * the collector: folder, then the ephemeral writing marker, then chunks; a generation is collected
 * only when it is not the head's and has no marker, and the writer checks that its marker still
 * belongs to its session just before switching the head.
 */
export class ChunkStore {
  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly chunksRoot: string,
    private readonly chunkSize: number,
  ) {}

  keyFolder(key: string): string {
    return joinPath(this.chunksRoot, encodeURIComponent(key));
  }

  /**
   * Writes a new generation for `key` and returns its manifest; the head is not touched. The
   * chunks live as long as the value they hold (see ChunkLifetime); the generation and key folders
   * are containers, so the server removes them once their chunks are gone.
   */
  async write(key: string, bytes: Buffer, lifetime: ChunkLifetime = {}): Promise<ChunkManifest> {
    const generation = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const folder = joinPath(this.keyFolder(key), generation);
    const chunks = Math.max(1, Math.ceil(bytes.length / this.chunkSize));
    const chunkMode = lifetime.ephemeral
      ? { mode: CreateMode.EPHEMERAL }
      : lifetime.ttlMs !== undefined
        ? { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: chunkTtlMs(lifetime.ttlMs) }
        : { mode: CreateMode.PERSISTENT };
    try {
      await this.createGenerationFolder(key, folder, bytes.length);
      await this.connection.create(joinPath(folder, WRITING_MARKER), '', {
        mode: CreateMode.EPHEMERAL,
      });
      for (let first = 0; first < chunks; first += CHUNKS_IN_FLIGHT) {
        const batch = [];
        for (let index = first; index < Math.min(chunks, first + CHUNKS_IN_FLIGHT); index++) {
          const slice = bytes.subarray(index * this.chunkSize, (index + 1) * this.chunkSize);
          batch.push(this.connection.create(joinPath(folder, chunkName(index)), slice, chunkMode));
        }
        await Promise.all(batch);
      }
    } catch (error) {
      // Our marker would keep a half-written generation from the collector for the whole session.
      await this.connection.delete(folder, { recursive: true }).catch(() => undefined);
      // The collector removed the folder before our marker made it ours: start over elsewhere.
      if (error instanceof NoNodeError)
        throw new InterruptedGenerationError(`generation ${generation} was collected`);
      throw error;
    }
    return { generation, chunks, size: bytes.length, sha256: sha256(bytes) };
  }

  /** The writing marker of a generation: the head switch checks it in the same transaction. */
  markerPath(key: string, manifest: ChunkManifest): string {
    return joinPath(this.keyFolder(key), manifest.generation, WRITING_MARKER);
  }

  /** Whether every chunk of the generation is there (read after an unfenced head switch). */
  async isComplete(key: string, manifest: ChunkManifest): Promise<boolean> {
    const folder = joinPath(this.keyFolder(key), manifest.generation);
    const children = await this.connection.getChildren(folder).catch(whenNoNode<string[]>([]));
    return children.filter((name) => name !== WRITING_MARKER).length === manifest.chunks;
  }

  private async createGenerationFolder(key: string, folder: string, size: number): Promise<void> {
    const data = JSON.stringify({ key, size });
    try {
      await this.connection.create(folder, data, { mode: CreateMode.CONTAINER });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.connection
        .create(this.keyFolder(key), '', { mode: CreateMode.CONTAINER, createParents: true })
        .catch(ignoreNodeExists);
      await this.connection.create(folder, data, { mode: CreateMode.CONTAINER });
    }
  }

  /** Verifies, right before the head switch, that the generation is complete and still ours. */
  async assertIntact(key: string, manifest: ChunkManifest): Promise<void> {
    const folder = joinPath(this.keyFolder(key), manifest.generation);
    const marker = await this.connection.exists(joinPath(folder, WRITING_MARKER));
    const children = marker ? await this.connection.getChildren(folder).catch(() => []) : [];
    if (
      !marker ||
      marker.ephemeralOwner !== this.connection.session.id ||
      children.length !== manifest.chunks + 1
    ) {
      throw new InterruptedGenerationError(
        `generation ${manifest.generation} of ${key} was interrupted`,
      );
    }
  }

  /** The head now points at `manifest`: drop the marker (the generation is no longer in progress). */
  async finish(key: string, manifest: ChunkManifest): Promise<void> {
    await this.connection
      .delete(joinPath(this.keyFolder(key), manifest.generation, WRITING_MARKER))
      .catch(ignoreNoNode);
  }

  /** Reads and verifies a generation; StaleGenerationError when it was collected meanwhile. */
  async read(key: string, manifest: ChunkManifest): Promise<Buffer> {
    const folder = joinPath(this.keyFolder(key), manifest.generation);
    const parts = await Promise.all(
      Array.from({ length: manifest.chunks }, (_, index) =>
        this.connection.get(joinPath(folder, chunkName(index))),
      ),
    ).catch((error) => {
      throw error instanceof NoNodeError
        ? new StaleGenerationError(`generation ${manifest.generation} is gone`)
        : error;
    });
    const bytes = Buffer.concat(parts.map((part) => part.data));
    if (bytes.length !== manifest.size)
      throw new CorruptValueError(key, `expected ${manifest.size} bytes, found ${bytes.length}`);
    if (sha256(bytes) !== manifest.sha256) throw new CorruptValueError(key, 'checksum mismatch');
    return bytes;
  }

  /**
   * Deletes the generations of `key` that are neither the head's nor being written. The head is
   * read after a generation's marker is seen gone: a writer drops its marker only after switching
   * the head, so a finished generation is then always recognised as the head's. Returns how many
   * generations were removed and how many are left.
   */
  async collect(
    key: string,
    headGeneration: () => Promise<string | undefined>,
  ): Promise<{ removed: number; remaining: number }> {
    const folder = this.keyFolder(key);
    const generations = await this.connection.getChildren(folder).catch(whenNoNode(undefined));
    if (!generations) return { removed: 0, remaining: 0 };
    let removed = 0;
    for (const generation of generations) {
      const path = joinPath(folder, generation);
      const children = await this.connection.getChildren(path).catch(whenNoNode<string[]>([]));
      if (children.includes(WRITING_MARKER)) continue;
      if ((await headGeneration()) === generation) continue;
      if (await this.deleteGeneration(path, children)) removed++;
    }
    const remaining = generations.length - removed;
    // An emptied key folder goes too; a writer racing in recreates it (NotEmpty keeps it).
    if (remaining === 0) await this.connection.delete(folder).catch(() => undefined);
    return { removed, remaining };
  }

  /** Whether `key` has chunk generations (current, orphaned or being written). */
  async hasGenerations(key: string): Promise<boolean> {
    const generations = await this.connection
      .getChildren(this.keyFolder(key))
      .catch(whenNoNode<string[]>([]));
    return generations.length > 0;
  }

  /** Keys that have chunk folders (for the collector's full sweep). */
  async keysWithChunks(): Promise<string[]> {
    const names = await this.connection
      .getChildren(this.chunksRoot)
      .catch(whenNoNode<string[]>([]));
    return names.map((name) => decodeURIComponent(name));
  }

  /**
   * Deletes exactly the children the decision was based on, then the folder without recursion:
   * a marker or chunk a writer added since makes the folder delete fail (NotEmpty), so a live
   * generation is never taken.
   */
  private async deleteGeneration(path: string, children: readonly string[]): Promise<boolean> {
    try {
      await Promise.all(
        children.map((child) => this.connection.delete(joinPath(path, child)).catch(ignoreNoNode)),
      );
      await this.connection.delete(path);
      return true;
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof NotEmptyError) return false;
      throw error;
    }
  }
}
