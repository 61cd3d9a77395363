import { forbiddenCharacter } from '../connection/paths.js';
import { InvalidKeyError } from './storage-errors.js';

/** Longest key accepted, in characters (ZooKeeper paths have no limit, but requests do). */
export const MAX_KEY_LENGTH = 1024;

/**
 * Checks a storage key ('/'-separated, e.g. 'orders/42'; one leading '/' is tolerated) and
 * returns its segments. Names starting with '__' are reserved for the storage's own bookkeeping
 * (chunks of large values), and 'zookeeper' is ZooKeeper's own top-level node.
 */
export function keySegments(key: unknown): string[] {
  return normalizeKey(key).split('/');
}

/** The first rule `key` breaks, if any (no allocation for a good key: it runs on every request). */
function brokenRule(key: string): string | undefined {
  if (key.length === 0 || key === '/') return 'the key is empty';
  if (key.length > MAX_KEY_LENGTH) return `the key is longer than ${MAX_KEY_LENGTH} characters`;
  const first = key.startsWith('/') ? 1 : 0;
  let start = first;
  while (start <= key.length) {
    const slash = key.indexOf('/', start);
    const end = slash === -1 ? key.length : slash;
    const segment = end - start;
    if (segment === 0) return 'the key has an empty segment (a doubled or trailing "/")';
    const dots = key.startsWith('..', start) ? 2 : key.startsWith('.', start) ? 1 : 0;
    if (dots === segment) return `relative segment "${key.slice(start, end)}" is not allowed`;
    if (key.startsWith('__', start)) {
      return `segment "${key.slice(start, end)}" starts with "__", which is reserved for the storage itself`;
    }
    start = end + 1;
  }
  // One scan of the whole key ('/' is allowed), with ZooKeeper's rule for paths (no character
  // outside the Basic Multilingual Plane among others: a key must become a valid path).
  const character = forbiddenCharacter(key);
  if (character) return character;
  const after = key.charAt(first + 'zookeeper'.length);
  if (key.startsWith('zookeeper', first) && (after === '' || after === '/'))
    return '"zookeeper" is reserved by ZooKeeper';
  return undefined;
}

/** The key in its canonical form (no leading '/'). */
export function normalizeKey(key: unknown): string {
  if (typeof key !== 'string')
    throw new InvalidKeyError(shownKey(key), `a key must be a string, got ${typeof key}`);
  const rule = brokenRule(key);
  if (rule !== undefined) throw new InvalidKeyError(key, rule);
  return key.startsWith('/') ? key.slice(1) : key;
}

/** A non-string key as text for the error: String() throws for some (a null-prototype object). */
function shownKey(key: unknown): string {
  try {
    return String(key);
  } catch {
    return Object.prototype.toString.call(key);
  }
}

/** True for child names that belong to the storage's bookkeeping, not to users' keys. */
export function isReservedName(name: string): boolean {
  return name.startsWith('__');
}
