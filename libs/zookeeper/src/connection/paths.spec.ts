import { describe, expect, it } from '@jest/globals';
import { InvalidPathError } from '../errors/library-errors.js';
import {
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
