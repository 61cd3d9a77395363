import { InvalidKeyError } from './storage-errors.js';

/** Longest key accepted, in characters (ZooKeeper paths have no limit, but requests do). */
export const MAX_KEY_LENGTH = 1024;

// ZooKeeper refuses these in paths; a key must become a valid path.
// eslint-disable-next-line no-control-regex -- ZooKeeper forbids control characters in paths
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/u;

/**
 * Checks a storage key ('/'-separated, e.g. 'orders/42'; one leading '/' is tolerated) and
 * returns its segments. Names starting with '__' are reserved for the storage's own bookkeeping
 * (chunks of large values), and 'zookeeper' is ZooKeeper's own top-level node.
 */
export function keySegments(key: unknown): string[] {
  if (typeof key !== 'string')
    throw new InvalidKeyError(String(key), `a key must be a string, got ${typeof key}`);
  const fail = (rule: string): never => {
    throw new InvalidKeyError(key, rule);
  };
  if (key.length === 0 || key === '/') fail('the key is empty');
  if (key.length > MAX_KEY_LENGTH) fail(`the key is longer than ${MAX_KEY_LENGTH} characters`);
  const segments = (key.startsWith('/') ? key.slice(1) : key).split('/');
  for (const segment of segments) {
    if (segment === '') fail('the key has an empty segment (a doubled or trailing "/")');
    if (segment === '.' || segment === '..') fail(`relative segment "${segment}" is not allowed`);
    if (segment.startsWith('__'))
      fail(`segment "${segment}" starts with "__", which is reserved for the storage itself`);
    const bad = FORBIDDEN.exec(segment);
    if (bad)
      fail(`character U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')} is not allowed`);
  }
  if (segments[0] === 'zookeeper') fail('"zookeeper" is reserved by ZooKeeper');
  return segments;
}

/** The key in its canonical form (no leading '/'). */
export function normalizeKey(key: unknown): string {
  return keySegments(key).join('/');
}

/** True for child names that belong to the storage's bookkeeping, not to users' keys. */
export function isReservedName(name: string): boolean {
  return name.startsWith('__');
}
