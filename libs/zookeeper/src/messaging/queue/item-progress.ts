import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NodeExistsError } from '../../errors/zookeeper-errors.js';

/** How far a batch item got: messages before `next` are done; `attempts` failed runs of `next`. */
export interface Progress {
  next: number;
  attempts: number;
}

/**
 * The progress znode of one item (`<queue>/progress/<item>`), written by compare-and-set. The
 * version doubles as a fence: a consumer whose lock vanished (its session expired) and whose item
 * was taken over fails its next write and stops, instead of racing the new owner.
 */
export class ItemProgress {
  private version = -1;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
  ) {}

  async load(): Promise<Progress> {
    try {
      await this.connection.create(this.path, encode({ next: 0, attempts: 0 }));
      this.version = 0;
      return { next: 0, attempts: 0 };
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
    const { data, stat } = await this.connection.get(this.path);
    this.version = stat.version;
    return decode(data);
  }

  /** Throws BadVersionError / NoNodeError when another consumer owns the item now. */
  async save(progress: Progress): Promise<void> {
    const stat = await this.connection.set(this.path, encode(progress), {
      version: this.version,
    });
    this.version = stat.version;
  }
}

function encode(progress: Progress): Buffer {
  return Buffer.from(JSON.stringify(progress), 'utf8');
}

function decode(data: Buffer): Progress {
  const parsed = JSON.parse(data.toString('utf8')) as Partial<Progress>;
  return { next: Number(parsed.next ?? 0), attempts: Number(parsed.attempts ?? 0) };
}
