import { describe, expect, it } from '@jest/globals';
import { InvalidPathError } from '../errors/library-errors.js';
import {
  forbiddenCharacter,
  joinPath,
  nodeName,
  normalizeNamespace,
  parentPath,
  sequenceNumber,
  validatePath,
} from './paths.js';

describe('paths', () => {
  it('accepts valid paths', () => {
    for (const path of ['/', '/a', '/a/b-c_d.e', '/ünïcode/名前'])
      expect(() => validatePath(path)).not.toThrow();
    expect(() => validatePath('/queue/', 'create', true)).not.toThrow();
  });

  it.each([
    [undefined, 'must be a string'],
    ['', 'empty'],
    ['a/b', 'start with "/"'],
    ['/a/', 'end with "/"'],
    ['/a//b', 'empty segment'],
    ['/a/./b', 'relative segment "."'],
    ['/..', 'relative segment ".."'],
    ['/a\u0000', 'U+0000'],
    ['/a\u007f', 'U+007f'],
    ['/a\ud800', 'U+d800'],
  ])('rejects %j: %s', (path, reason) => {
    let error: unknown;
    try {
      validatePath(path, 'get');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPathError);
    expect((error as InvalidPathError).reason).toContain(reason);
    expect((error as InvalidPathError).operation).toBe('get');
  });

  // ZooKeeper's PathUtils.validatePath, on Java chars (UTF-16 code units): refused are
  // \u0000-\u001f, \u007f-\u009f, \ud800-\uf8ff, \ufff0-\uffff. The last allowed and first refused
  // character of each range, and characters outside the Basic Multilingual Plane (a surrogate
  // pair, refused through its surrogates), which a code-point match (regex `u` flag) let through.
  it.each([
    ['\u001f', 'U+001f'],
    ['\u007f', 'U+007f'],
    ['\u009f', 'U+009f'],
    ['\ud7ff', undefined],
    ['\ud800', 'U+d800'],
    ['\udfff', 'U+dfff'],
    ['\ue000', 'U+e000'],
    ['\uf8ff', 'U+f8ff'],
    ['\uf900', undefined],
    ['\uffef', undefined],
    ['\ufff0', 'U+fff0'],
    ['\uffff', 'U+ffff'],
    [' ~\u00a0é名', undefined],
    ['🎉', 'U+1f389 is outside the Basic Multilingual Plane'],
    ['\u{10000}', 'U+10000 is outside the Basic Multilingual Plane'],
    ['\u{10ffff}', 'U+10ffff is outside the Basic Multilingual Plane'],
  ])('mirrors the server on %j: %s', (character, reason) => {
    const verdict = forbiddenCharacter(`name${character}`);
    if (reason === undefined) expect(verdict).toBeUndefined();
    else expect(verdict).toContain(reason);
  });

  it('refuses a path with an emoji before it reaches the server', () => {
    expect(() => validatePath('/party/🎉', 'create')).toThrow(InvalidPathError);
    expect(() => validatePath('/party/🎉', 'create')).toThrow(
      /character U\+1f389 is outside the Basic Multilingual Plane, which ZooKeeper refuses in a path/,
    );
  });

  it('joins, splits and parses names', () => {
    expect(joinPath('/a/', '/b', 'c/d')).toBe('/a/b/c/d');
    expect(joinPath('/')).toBe('/');
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a')).toBe('/');
    expect(nodeName('/a/b')).toBe('b');
    expect(sequenceNumber('_c_x-lock-0000000042')).toBe(42);
    expect(sequenceNumber('plain')).toBeUndefined();
    expect(normalizeNamespace('app/')).toBe('/app');
    expect(normalizeNamespace('/')).toBe('');
    expect(normalizeNamespace(undefined)).toBe('');
    expect(() => normalizeNamespace('/a/../b')).toThrow(InvalidPathError);
  });
});
