import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath, sequenceNumber } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { whenNoNode } from '../../internal/no-node.js';
import {
  BATCH_HEADER_BYTES,
  decodeBatch,
  encodeBatch,
  MESSAGE_OVERHEAD_BYTES,
} from '../shared/message-batch.js';

/** A message that failed `maxAttempts` times, kept under `<queue>/dead/`. */
export interface DeadLetter<T> {
  /** Node name under `<queue>/dead/`; pass it to `replay` or `discard`. */
  readonly id: string;
  /** The message; undefined when it cannot be read (see `unreadable`). */
  readonly message: T | undefined;
  /** The message's bytes as published (the whole record when the record is corrupt). */
  readonly payload: Buffer;
  /**
   * Why the letter cannot be read, if so: its payload does not deserialize (it can still be
   * replayed as it is), or the record itself is corrupt (written by someone else; nothing to
   * replay, only `discard`).
   */
  readonly unreadable?: string;
  /** Whether `replay` can publish it again: false for a corrupt record. */
  readonly replayable: boolean;
  /**
   * A whole item moved here because it could not be run as it was (see `item-corrupt`): `payload`
   * holds the item's raw bytes, `message` is undefined and `unreadable` says so. Replayable when
   * those bytes are a batch of at least one message: `replay` publishes each of its messages.
   */
  readonly wholeItem?: boolean;
  readonly error: string;
  readonly attempts: number;
  /** Where it came from: the item and the index of the message in it. */
  readonly item: string;
  readonly index: number;
  readonly failedAt: number;
}

type Metadata = Pick<
  DeadLetter<unknown>,
  'error' | 'attempts' | 'item' | 'index' | 'failedAt' | 'wholeItem'
>;

/** Whether a letter of `payloadBytes` fits one request (else `writeDeadLetter` would fail). */
export function letterFits(connection: ZookeeperConnection, payloadBytes: number): boolean {
  return (
    payloadBytes + REQUEST_OVERHEAD_BYTES + BATCH_OVERHEAD_BYTES + 1024 <= connection.maxFrameBytes
  );
}

/** The messages a letter stands for: its payload, or each message of a whole item's batch. */
export function letterPayloads(letter: DeadLetter<unknown>): Buffer[] {
  return letter.wholeItem ? decodeBatch(letter.payload, letter.item) : [letter.payload];
}

/** Room left in a frame for the create request around the record (path, ACL, framing). */
const REQUEST_OVERHEAD_BYTES = 4096;
/** Error texts are kept to this many characters whatever the room: a letter is read by people. */
const MAX_ERROR_CHARS = 10_000;

/**
 * Dead letters are batches of two parts, the message's bytes untouched and a JSON description,
 * so a replay publishes exactly what the producer wrote. The error text is truncated so that
 * the letter fits one request however long the handler's error was: a letter too large to store
 * would fail every retry, and on the native driver drop the connection each time.
 */
export async function writeDeadLetter(
  connection: ZookeeperConnection,
  deadPath: string,
  payload: Buffer,
  metadata: Metadata,
): Promise<void> {
  const room = connection.maxFrameBytes - REQUEST_OVERHEAD_BYTES - payload.length;
  const description = describeWithin(metadata, room);
  await connection.create(joinPath(deadPath, 'dead-'), encodeBatch([payload, description]), {
    mode: CreateMode.PERSISTENT_SEQUENTIAL,
  });
}

/** The JSON description, its error text shortened until the whole takes at most `room` bytes. */
function describeWithin(metadata: Metadata, room: number): Buffer {
  let limit = Math.min(metadata.error.length, MAX_ERROR_CHARS);
  for (;;) {
    const error = truncated(metadata.error, limit);
    const bytes = Buffer.from(JSON.stringify({ ...metadata, error }), 'utf8');
    if (bytes.length + BATCH_OVERHEAD_BYTES <= room || limit === 0) return bytes;
    // Shrink by what is over, counting the worst case of 6 JSON bytes per character.
    const over = bytes.length + BATCH_OVERHEAD_BYTES - room;
    limit = Math.max(0, limit - Math.max(16, Math.ceil(over / 6)));
  }
}

function truncated(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}… (${text.length - limit} characters truncated)`;
}

/** Batch header and the two length prefixes of a dead letter. */
const BATCH_OVERHEAD_BYTES = BATCH_HEADER_BYTES + 2 * MESSAGE_OVERHEAD_BYTES;

/**
 * Every dead letter of the queue, oldest first. A letter that cannot be read is listed with
 * `unreadable` saying why, never failing the whole listing.
 */
export async function readDeadLetters<T>(
  connection: ZookeeperConnection,
  deadPath: string,
  deserialize: (payload: Buffer) => T,
): Promise<DeadLetter<T>[]> {
  const names = await connection.getChildren(deadPath);
  const letters = await Promise.all(
    names.map(async (id) => {
      const path = joinPath(deadPath, id);
      const node = await connection.get(path).catch(whenNoNode(undefined));
      return node && readLetter(id, path, node.data, node.stat.ctime.getTime(), deserialize);
    }),
  );
  return letters
    .filter((letter): letter is DeadLetter<T> => letter !== undefined)
    .sort((a, b) => (sequenceNumber(a.id) ?? 0) - (sequenceNumber(b.id) ?? 0));
}

function readLetter<T>(
  id: string,
  path: string,
  data: Buffer,
  createdAt: number,
  deserialize: (payload: Buffer) => T,
): DeadLetter<T> {
  let payload: Buffer;
  let metadata: Metadata;
  try {
    const parts = decodeBatch(data, path);
    if (parts.length !== 2) throw new Error(`${parts.length} parts instead of 2`);
    payload = parts[0];
    metadata = parseMetadata(parts[1]);
  } catch (error) {
    return {
      id,
      message: undefined,
      payload: data,
      unreadable: `not a dead letter record: ${describe(error)}`,
      replayable: false,
      error: '',
      attempts: 0,
      item: '',
      index: -1,
      failedAt: createdAt,
    };
  }
  if (metadata.wholeItem) {
    let replayable = false;
    let what = 'no batch';
    try {
      const count = decodeBatch(payload, path).length;
      replayable = count > 0;
      what = `${count} message(s)`;
    } catch {
      // Not a batch: kept as it was found, for people to look at; only `discard` removes it.
    }
    const unreadable = `a whole item kept as it was found (${what}), not one message`;
    return { id, payload, message: undefined, unreadable, replayable, ...metadata };
  }
  try {
    return { id, payload, message: deserialize(payload), replayable: true, ...metadata };
  } catch (error) {
    const unreadable = `the payload does not deserialize: ${describe(error)}`;
    return { id, payload, message: undefined, unreadable, replayable: true, ...metadata };
  }
}

function parseMetadata(bytes: Buffer): Metadata {
  const parsed = JSON.parse(bytes.toString('utf8')) as Partial<Metadata> | null;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.error !== 'string') {
    throw new Error('no description');
  }
  return {
    error: parsed.error,
    attempts: Number(parsed.attempts) || 0,
    item: String(parsed.item ?? ''),
    index: Number.isInteger(parsed.index) ? Number(parsed.index) : -1,
    failedAt: Number(parsed.failedAt) || 0,
    ...(parsed.wholeItem === true ? { wholeItem: true } : {}),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
