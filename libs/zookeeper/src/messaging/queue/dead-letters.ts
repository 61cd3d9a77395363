import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { NoNodeError } from '../../errors/zookeeper-errors.js';
import { decodeBatch, encodeBatch } from '../shared/message-batch.js';

/** A message that failed `maxAttempts` times, kept under `<queue>/dead/`. */
export interface DeadLetter<T> {
  /** Node name under `<queue>/dead/`; pass it to `replay` or `discard`. */
  readonly id: string;
  readonly message: T;
  readonly payload: Buffer;
  readonly error: string;
  readonly attempts: number;
  /** Where it came from: the item and the index of the message in it. */
  readonly item: string;
  readonly index: number;
  readonly failedAt: number;
}

type Metadata = Pick<DeadLetter<unknown>, 'error' | 'attempts' | 'item' | 'index' | 'failedAt'>;

/**
 * Dead letters are batches of two parts, the message's bytes untouched and a JSON description,
 * so a replay publishes exactly what the producer wrote.
 */
export async function writeDeadLetter(
  connection: ZookeeperConnection,
  deadPath: string,
  payload: Buffer,
  metadata: Metadata,
): Promise<void> {
  const description = Buffer.from(JSON.stringify(metadata), 'utf8');
  await connection.create(joinPath(deadPath, 'dead-'), encodeBatch([payload, description]), {
    mode: CreateMode.PERSISTENT_SEQUENTIAL,
  });
}

export async function readDeadLetters<T>(
  connection: ZookeeperConnection,
  deadPath: string,
  deserialize: (payload: Buffer) => T,
): Promise<DeadLetter<T>[]> {
  const names = await connection.getChildren(deadPath);
  const letters = await Promise.all(
    names.map(async (id) => {
      try {
        const path = joinPath(deadPath, id);
        const [payload, description] = decodeBatch((await connection.get(path)).data, path);
        const metadata = JSON.parse(description.toString('utf8')) as Metadata;
        return { id, payload, message: deserialize(payload), ...metadata };
      } catch (error) {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    }),
  );
  return letters
    .filter((letter): letter is DeadLetter<T> => letter !== undefined)
    .sort((a, b) => sequenceOf(a.id) - sequenceOf(b.id));
}

function sequenceOf(name: string): number {
  return Number(/(\d{10})$/.exec(name)?.[1] ?? 0);
}
