import { InvalidPathError } from '../errors/library-errors.js';

/**
 * Characters ZooKeeper's server refuses in a path (PathUtils.validatePath), as UTF-16 code units:
 * the server checks Java chars, so every character outside the Basic Multilingual Plane (an emoji
 * such as '🎉' is a surrogate pair, \ud83c\udf89) is refused through its surrogates. No `u` flag:
 * with it the class would match code points, and a pair would slip through to the server.
 */
// eslint-disable-next-line no-control-regex -- ZooKeeper forbids control characters in paths
const FORBIDDEN_CHARACTER = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/;

/**
 * Why `text` cannot be (part of) a ZooKeeper path because of a character, or undefined. Names the
 * whole character (U+1F389 for a surrogate pair, not its first half).
 */
export function forbiddenCharacter(text: string): string | undefined {
  const bad = FORBIDDEN_CHARACTER.exec(text);
  if (!bad) return undefined;
  const codePoint = text.codePointAt(bad.index)!;
  const name = `U+${codePoint.toString(16).padStart(4, '0')}`;
  return codePoint > 0xffff
    ? `character ${name} is outside the Basic Multilingual Plane, which ZooKeeper refuses`
    : `character ${name} is not allowed`;
}

/**
 * Throws InvalidPathError naming the broken rule, so a bad path never reaches the driver (where it
 * would come back as a bare "bad arguments"). `sequential` allows the trailing '/' or empty last
 * name that a sequential create may use as a prefix.
 */
export function validatePath(
  path: unknown,
  operation?: string,
  sequential = false,
): asserts path is string {
  const fail = (reason: string): never => {
    throw new InvalidPathError(shownPath(path), reason, { operation });
  };
  if (typeof path !== 'string') fail(`a path must be a string, got ${typeof path}`);
  const text = path as string;
  if (text.length === 0) fail('the path is empty; paths start with "/"');
  if (text[0] !== '/') fail('the path must start with "/"');
  if (text.length === 1) return;
  const segments = text.split('/').slice(1);
  segments.forEach((segment, index) => {
    const isLast = index === segments.length - 1;
    if (segment === '' && !(isLast && sequential)) {
      fail(isLast ? 'the path must not end with "/"' : 'the path has an empty segment ("//")');
    }
    if (segment === '.' || segment === '..') fail(`relative segment "${segment}" is not allowed`);
    const character = forbiddenCharacter(segment);
    if (character) fail(`${character} in a path`);
  });
}

/** A path as text for an error: String() throws for some values (a null-prototype object). */
function shownPath(path: unknown): string {
  try {
    return String(path);
  } catch {
    return Object.prototype.toString.call(path);
  }
}

/** Joins path segments with single slashes: joinPath('/a', 'b/c') === '/a/b/c'. */
export function joinPath(base: string, ...names: string[]): string {
  const parts = [base, ...names]
    .flatMap((part) => part.split('/'))
    .filter((part) => part.length > 0);
  return `/${parts.join('/')}`;
}

/** The parent of a path ('/' for top-level nodes). */
export function parentPath(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

/** The last segment of a path. */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The ten-digit counter ZooKeeper appends to sequential nodes, or undefined if there is none. */
export function sequenceNumber(name: string): number | undefined {
  const match = /(\d{10})$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Normalizes a namespace option ('app', '/app/', '/app') to '/app', or '' for none. */
export function normalizeNamespace(namespace: string | undefined): string {
  if (!namespace) return '';
  const normalized = joinPath(namespace);
  if (normalized === '/') return '';
  validatePath(normalized, 'namespace');
  return normalized;
}
