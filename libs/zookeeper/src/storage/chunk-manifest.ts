import { createHash } from 'node:crypto';

/**
 * Marks a head znode whose value lives in chunk znodes. A NUL byte first keeps it from ever being
 * valid JSON or text a user would write; a small value that starts with it anyway is stored
 * chunked, so a head is never ambiguous.
 */
export const MANIFEST_MAGIC = Buffer.from('\u0000nestjs-zookeeper:chunked:v1\n', 'utf8');

/** What the head znode of a chunked value holds. */
export interface ChunkManifest {
  /** Generation: the chunk folder name; every write of a large value makes a new one. */
  generation: string;
  chunks: number;
  size: number;
  sha256: string;
}

export function isManifest(bytes: Buffer): boolean {
  return (
    bytes[0] === 0 &&
    bytes.length >= MANIFEST_MAGIC.length &&
    bytes.subarray(0, MANIFEST_MAGIC.length).equals(MANIFEST_MAGIC)
  );
}

export function encodeManifest(manifest: ChunkManifest): Buffer {
  return Buffer.concat([MANIFEST_MAGIC, Buffer.from(JSON.stringify(manifest), 'utf8')]);
}

export function decodeManifest(bytes: Buffer): ChunkManifest {
  return JSON.parse(bytes.subarray(MANIFEST_MAGIC.length).toString('utf8')) as ChunkManifest;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Chunk znode names sort in chunk order. */
export function chunkName(index: number): string {
  return String(index).padStart(6, '0');
}
