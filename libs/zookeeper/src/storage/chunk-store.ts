import { randomUUID } from 'node:crypto';
import { CreateMode } from '../connection/create-mode.enum.js';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NoNodeError, NotEmptyError } from '../errors/zookeeper-errors.js';
import { ChunkManifest, chunkName, sha256 } from './chunk-manifest.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';
import { LibraryErrorCode } from '../errors/library-errors.js';
import { CorruptValueError } from './storage-errors.js';

/** Marker (ephemeral) that a generation is being written by a live session. */
const WRITING_MARKER = '__writing';
/** Chunk writes in flight at once: enough to fill the pipe, few enough to bound memory. */
const CHUNKS_IN_FLIGHT = 8;

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

  /** Writes a new generation for `key` and returns its manifest; the head is not touched. */
  async write(key: string, bytes: Buffer): Promise<ChunkManifest> {
    const generation = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const folder = joinPath(this.keyFolder(key), generation);
    const chunks = Math.max(1, Math.ceil(bytes.length / this.chunkSize));
    try {
      await this.connection.create(folder, JSON.stringify({ key, size: bytes.length }), {
        createParents: true,
      });
      await this.connection.create(joinPath(folder, WRITING_MARKER), '', {
        mode: CreateMode.EPHEMERAL,
      });
      for (let first = 0; first < chunks; first += CHUNKS_IN_FLIGHT) {
        const batch = [];
        for (let index = first; index < Math.min(chunks, first + CHUNKS_IN_FLIGHT); index++) {
          const slice = bytes.subarray(index * this.chunkSize, (index + 1) * this.chunkSize);
          batch.push(this.connection.create(joinPath(folder, chunkName(index)), slice));
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
      .catch(ignore(NoNodeError));
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
    const generations = await this.connection
      .getChildren(folder)
      .catch(ignore(NoNodeError, undefined));
    if (!generations) return { removed: 0, remaining: 0 };
    let removed = 0;
    for (const generation of generations) {
      const path = joinPath(folder, generation);
      const children = await this.connection
        .getChildren(path)
        .catch(ignore(NoNodeError, [] as string[]));
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
      .catch(ignore(NoNodeError, [] as string[]));
    return generations.length > 0;
  }

  /** Keys that have chunk folders (for the collector's full sweep). */
  async keysWithChunks(): Promise<string[]> {
    const names = await this.connection
      .getChildren(this.chunksRoot)
      .catch(ignore(NoNodeError, [] as string[]));
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
        children.map((child) =>
          this.connection.delete(joinPath(path, child)).catch(ignore(NoNodeError)),
        ),
      );
      await this.connection.delete(path);
      return true;
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof NotEmptyError) return false;
      throw error;
    }
  }
}

function ignore<T>(
  errorClass: new (...args: never[]) => Error,
  fallback?: T,
): (error: unknown) => T {
  return (error) => {
    if (error instanceof errorClass) return fallback as T;
    throw error;
  };
}
