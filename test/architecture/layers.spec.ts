import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from '@jest/globals';

/**
 * The library's layers, lowest first. A file may import from its own top-level folder or from a
 * strictly lower layer; folders of one rank are siblings and never import each other.
 */
const LAYER_RANK: Record<string, number> = {
  errors: 0,
  internal: 1,
  driver: 1,
  codec: 1,
  connection: 2,
  watch: 3,
  testing: 3,
  sequential: 4,
  storage: 4,
  recipes: 5,
  messaging: 5,
  module: 6,
  transport: 6,
  health: 7,
  dashboard: 8,
  config: 7,
};

const SRC = resolve('libs/zookeeper/src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function topFolder(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : '.';
}

interface Import {
  from: string;
  to: string;
  line: string;
}

function relativeImports(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((match) => ({
    from: topFolder(file),
    to: topFolder(resolve(dirname(file), match[1])),
    line: `${relative(SRC, file)}: ${match[0]}`,
  }));
}

describe('library layering', () => {
  const files = sourceFiles(SRC);

  test('every top-level folder has a layer', () => {
    const folders = new Set(files.map(topFolder).filter((folder) => folder !== '.'));
    expect([...folders].filter((folder) => !(folder in LAYER_RANK))).toEqual([]);
  });

  test('imports only point down (or stay inside their folder)', () => {
    const offending = files
      .flatMap(relativeImports)
      .filter(({ from, to }) => from !== '.' && from !== to && !(LAYER_RANK[to] < LAYER_RANK[from]))
      .map(({ line }) => line);
    expect(offending).toEqual([]);
  });

  test('a recipe imports shared recipe internals, or another recipe through its index', () => {
    const offending = files
      .filter((file) => topFolder(file) === 'recipes' && relative(SRC, file).split('/').length > 2)
      .flatMap((file) => {
        const own = relative(SRC, file).split('/')[1];
        const text = readFileSync(file, 'utf8');
        return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)]
          .map((match) => relative(SRC, resolve(dirname(file), match[1])).split('/'))
          .filter(
            ([top, recipe, leaf]) =>
              top === 'recipes' &&
              leaf !== undefined &&
              recipe !== own &&
              recipe !== 'lock-internals' &&
              leaf !== 'index.js',
          )
          .map((parts) => `${relative(SRC, file)} -> ${parts.join('/')}`);
      });
    expect(offending).toEqual([]);
  });
});
