import { randomUUID } from 'node:crypto';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { JsonSerializer, Serializer } from '../../codec/serializers.js';
import { Batcher, BatcherOptions, BatchPosition } from './batcher.js';
import { batchNamePrefix } from './entry-names.js';
import { SegmentedFolder, SegmentOptions } from './segmented-folder.js';

export interface BatchAppenderOptions extends BatcherOptions {
  /** Message encoding; default JSON (use BufferSerializer for raw bytes). */
  serializer?: Serializer;
  /** When the folder rolls over to a new segment (tests use a small `rolloverAt`). */
  segments?: SegmentOptions;
}

/** A batch this appender wrote: where, and its bytes as written. */
export interface WrittenBatch {
  readonly path: string;
  readonly segment: number;
  readonly data: Buffer;
}

/**
 * The publishing side of both messaging primitives: messages are serialized, grouped by the
 * Batcher, and each batch appended as one persistent sequential znode in the folder's current
 * segment. Creates are protected (the default for sequential creates), so a create whose reply was
 * lost is found again by its uuid prefix instead of being appended twice. A create refused by a
 * sealed segment goes again to the next one; a batch past the roll-over point rolls the folder
 * over (see SegmentedFolder) before its publish resolves.
 */
export class BatchAppender {
  readonly serializer: Serializer;
  private readonly batcher: Batcher;

  constructor(
    private readonly connection: ZookeeperConnection,
    what: string,
    private readonly segments: SegmentedFolder,
    options: BatchAppenderOptions,
    /** Resolves once the primitive's folders exist. */
    private readonly ready: () => Promise<void>,
    /** Called after each appended batch. */
    private readonly appended: (batch: WrittenBatch) => void = () => undefined,
  ) {
    this.serializer = options.serializer ?? new JsonSerializer();
    this.batcher = new Batcher(what, (batch, count) => this.append(batch, count), options);
  }

  /** One message, or each message of an array; resolves with where each was stored. */
  publish<T>(messages: T | readonly T[]): Promise<BatchPosition[]> {
    return this.batcher.addMessages(messages, this.serializer);
  }

  /** Payloads already serialized (e.g. dead letters put back). */
  publishPayloads(payloads: readonly Buffer[]): Promise<BatchPosition[]> {
    return this.batcher.add(payloads);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  /** See Batcher.quiet. */
  get quiet(): boolean {
    return this.batcher.quiet;
  }

  close(): Promise<void> {
    return this.batcher.close();
  }

  private async append(batch: Buffer, count: number): Promise<string> {
    await this.ready();
    // One id for every attempt, in whichever segment: a relay that saw the batch by this id
    // recognises a retried copy (see RelayedCreates).
    const createId = randomUUID();
    const { value: path, segment } = await this.segments.writeTo((folder) =>
      this.connection.create(joinPath(folder, batchNamePrefix(count)), batch, {
        mode: CreateMode.PERSISTENT_SEQUENTIAL,
        createId,
      }),
    );
    await this.segments.created(segment, path);
    this.appended({ path, segment, data: batch });
    return path;
  }
}
