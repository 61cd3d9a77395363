import { describe, expect, it } from '@jest/globals';
import { InvalidKeyError } from './storage-errors.js';
import { normalizeKey } from './storage-key.js';

describe('storage keys', () => {
  it('accepts keys whose characters ZooKeeper accepts in a path', () => {
    for (const key of ['orders/42', '/ünïcode/名前', 'a b~\uf900\uffef'])
      expect(() => normalizeKey(key)).not.toThrow();
  });

  // A key becomes a path: the server's rule applies (PathUtils.validatePath on UTF-16 code units),
  // so a character outside the Basic Multilingual Plane, a surrogate pair, is a typed
  // InvalidKeyError here instead of a bare BadArguments from the server (or NoNode for a read).
  it.each([
    ['party/🎉', 'U+1f389 is outside the Basic Multilingual Plane'],
    ['a/\u{10000}b', 'U+10000 is outside the Basic Multilingual Plane'],
    ['lone\ud83c', 'U+d83c is not allowed'],
    ['private\ue000', 'U+e000 is not allowed'],
    ['special\ufff0', 'U+fff0 is not allowed'],
    ['c1\u0085', 'U+0085 is not allowed'],
  ])('refuses %j: %s', (key, reason) => {
    expect(() => normalizeKey(key)).toThrow(InvalidKeyError);
    expect(() => normalizeKey(key)).toThrow(reason);
  });
});
