import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BadVersionError,
  BufferSerializer,
  InvalidKeyError,
  InvalidOptionsError,
  InvalidPathError,
  NodeExistsError,
  NoNodeError,
  SerializationError,
  ValueTooLargeError,
  ZookeeperError,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { errorText, fuzzParams } from '../support/fuzz.js';

// Property-based tests of the storage against a real ZooKeeper: arbitrary keys, JSON values,
// Buffers and options. Every call either round-trips exactly or fails with the library's typed
// error for what was wrong; a reader racing chunked rewrites only ever sees whole values.

const connections = useTestConnections('storage-fuzz');
let jsonStore: ZookeeperStorage;

beforeAll(() => {
  jsonStore = new ZookeeperStorage(connections.zk, { root: '/keys' });
});

type Outcome<T> = { ok: T } | { error: unknown };

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error };
  }
}

/** Fails the property unless the outcome is a success or one of the `allowed` error classes. */
function expectTyped(
  outcome: Outcome<unknown>,
  ...allowed: Array<new (...args: never[]) => Error>
) {
  if ('ok' in outcome) return;
  const error = outcome.error;
  if (allowed.some((type) => error instanceof type)) return;
  throw new Error(
    `expected one of ${allowed.map((t) => t.name).join(', ')}, got ${errorText(error)}`,
    {
      cause: error,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Keys: the rules, written again from the README, decide which keys must be refused.

// eslint-disable-next-line no-control-regex -- the server refuses control characters in paths
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/;

function keyIsValid(key: string): boolean {
  if (key.length === 0 || key.length > 1024) return false;
  const canonical = key.startsWith('/') ? key.slice(1) : key;
  if (canonical === '') return false;
  const segments = canonical.split('/');
  if (segments[0] === 'zookeeper') return false;
  return segments.every(
    (s) => s !== '' && s !== '.' && s !== '..' && !s.startsWith('__') && !FORBIDDEN.test(s),
  );
}

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '.',
      '..',
      '...',
      '__x',
      '_x',
      'zookeeper',
      'a.b',
      ' ',
      '%2F',
      'é',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).map((s) => `__${s}`),
  },
);
const key: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
  },
  {
    weight: 1,
    arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/',
      '//',
      'a//b',
      'a/',
      '/zookeeper/x',
      'x'.repeat(1025),
      'y'.repeat(1024),
    ),
  },
);

describe('storage fuzzing: keys', () => {
  it('a key is stored and read back under its canonical form, or refused with InvalidKeyError', async () => {
    const written = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(key, fc.integer(), async (k, value) => {
        const set = await attempt(() => jsonStore.set(k, value));
        if (!keyIsValid(k)) {
          expect('error' in set && set.error instanceof InvalidKeyError).toBe(true);
          // Reads, deletes and lists refuse it the same way, before anything reaches the server.
          await expect(jsonStore.get(k)).rejects.toBeInstanceOf(InvalidKeyError);
          await expect(jsonStore.delete(k)).rejects.toBeInstanceOf(InvalidKeyError);
          return;
        }
        // A valid key may still have a value where a parent key's segment is being written now
        // (never, here: one key at a time), so anything but success is a bug.
        if ('error' in set)
          throw new Error(`set of valid key ${JSON.stringify(k)}: ${errorText(set.error)}`);
        const canonical = k.startsWith('/') ? k.slice(1) : k;
        written.set(canonical, value);
        expect(await jsonStore.getValue(k)).toBe(value);
        expect(await jsonStore.getValue(canonical)).toBe(value);
        const parent = canonical.includes('/')
          ? canonical.slice(0, canonical.lastIndexOf('/'))
          : undefined;
        expect(await jsonStore.list(parent)).toContain(canonical);
      }),
      fuzzParams(250),
    );
    // Every key written is still there with its last value (no key shadowed another).
    for (const [canonical, value] of written) {
      expect(await jsonStore.getValue(canonical)).toBe(value);
    }
  });

  it('a key that is not a string is an InvalidKeyError, whatever it is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything({
            withNullPrototype: true,
            withBigInt: true,
            withMap: true,
            withBoxedValues: true,
          }),
          fc.constant(Object.create(null) as unknown),
          fc.constant({ toString: () => 'a' } as unknown),
          fc.constant(Symbol('key') as unknown),
        ),
        async (notAKey) => {
          fc.pre(typeof notAKey !== 'string');
          const calls: Array<() => Promise<unknown>> = [
            () => jsonStore.set(notAKey as string, 1),
            () => jsonStore.get(notAKey as string),
            () => jsonStore.has(notAKey as string),
            () => jsonStore.delete(notAKey as string),
            () => jsonStore.increment(notAKey as string, NaN),
          ];
          for (const call of calls) {
            expectTyped(await attempt(call), InvalidKeyError);
            expect('ok' in (await attempt(call))).toBe(false);
          }
        },
      ),
      fuzzParams(100),
    );
  });

  it('regression (seed 20260415, path "2"): a null-prototype object as key or path is refused typed', async () => {
    // String() of it threw a TypeError ("Cannot convert object to primitive value") while the
    // InvalidKeyError / InvalidPathError was being built.
    const bare = Object.create(null) as string;
    await expect(jsonStore.set(bare, 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(jsonStore.increment(bare, NaN)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(connections.zk.get(bare)).rejects.toBeInstanceOf(InvalidPathError);
    await expect(connections.zk.set(bare, 'x')).rejects.toBeInstanceOf(InvalidPathError);
  });
});

// ---------------------------------------------------------------------------------------------
// Values and options.

const jsonish = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(null, '', 0, -0, [], {}, '\u0000', { __proto__: null }),
  },
);
const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const notJson = fc.oneof(
  fc.constant<unknown>(circular),
  fc.constantFrom<unknown>(
    undefined,
    () => 1,
    Symbol('s'),
    10n,
    Buffer.from('{}'),
    new Uint8Array(2),
  ),
  fc.anything({ withBigInt: true, withTypedArray: true }).filter((v) => {
    try {
      return JSON.stringify(v) === undefined;
    } catch {
      return true;
    }
  }),
);

let counter = 0;
const freshKey = (prefix: string) => `${prefix}/k${++counter}`;

describe('storage fuzzing: values and options', () => {
  it('JSON values (small and chunked) read back as their JSON; others are a SerializationError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: jsonish }, { weight: 1, arbitrary: notJson }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        async (value, maxNodeBytes, chunking) => {
          const store = new ZookeeperStorage(connections.zk, {
            root: '/values',
            maxNodeBytes,
            chunking,
          });
          const k = freshKey('json');
          let text: string | undefined;
          try {
            text =
              Buffer.isBuffer(value) || value instanceof Uint8Array
                ? undefined
                : JSON.stringify(value);
          } catch {
            text = undefined;
          }
          const set = await attempt(() => store.set(k, value));
          if (text === undefined) {
            expect('error' in set && set.error instanceof SerializationError).toBe(true);
            expect(await store.has(k)).toBe(false);
            return;
          }
          const size = Buffer.byteLength(text);
          if (!chunking && size > maxNodeBytes) {
            expect('error' in set && set.error instanceof ValueTooLargeError).toBe(true);
            expect(await store.has(k)).toBe(false);
            return;
          }
          if ('error' in set) throw new Error(`set: ${errorText(set.error)}`);
          expect(await store.getValue(k)).toEqual(JSON.parse(text));
        },
      ),
      fuzzParams(200),
    );
  });

  it('Buffers of any bytes (the manifest marker included) read back byte for byte', async () => {
    const marker = Buffer.from('\u0000nestjs-zookeeper:chunked:v1\n', 'utf8');
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.concat([marker, Buffer.from(b)])),
      fc
        .uint8Array({ maxLength: 20 })
        .map((b) => Buffer.concat([marker.subarray(0, b.length % marker.length), Buffer.from(b)])),
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.integer({ min: 1, max: 128 }), async (value, maxNodeBytes) => {
        const store = new ZookeeperStorage(connections.zk, {
          root: '/buffers',
          serializer: new BufferSerializer(),
          maxNodeBytes,
        });
        const k = freshKey('bytes');
        await store.set(k, value);
        const read = await store.getValue<Buffer>(k);
        expect(read?.toString('hex')).toBe(value.toString('hex'));
        // Rewritten with other bytes, then deleted: nothing of the old value is left to read.
        await store.set(k, Buffer.concat([value, value]));
        expect((await store.getValue<Buffer>(k))?.toString('hex')).toBe(
          Buffer.concat([value, value]).toString('hex'),
        );
        await store.delete(k);
        expect(await store.get(k)).toBeUndefined();
      }),
      fuzzParams(120),
    );
  });

  const strangeNumber = fc.oneof(
    fc.constantFrom<unknown>(
      undefined,
      0,
      -1,
      1,
      1.5,
      NaN,
      Infinity,
      -Infinity,
      2 ** 31,
      2 ** 40,
      2 ** 53,
      '5',
      null,
    ),
    fc.integer({ min: -5, max: 5 }),
    fc.double(),
  );

  it('options (ttlMs, ephemeral, expectedVersion, maxNodeBytes) succeed or fail typed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          ttlMs: fc.oneof(
            fc.constant(undefined),
            fc.integer({ min: 1, max: 600_000 }),
            strangeNumber,
          ),
          ephemeral: fc.option(fc.boolean(), { nil: undefined }),
          expectedVersion: fc.oneof(fc.constant(undefined), strangeNumber),
          maxNodeBytes: fc.oneof(
            fc.constant(undefined),
            fc.integer({ min: 1, max: 64 }),
            strangeNumber,
          ),
          exists: fc.boolean(),
          create: fc.boolean(),
        }),
        fc.jsonValue({ maxDepth: 2 }),
        async (options, value) => {
          const k = freshKey('options');
          let store: ZookeeperStorage;
          try {
            store = new ZookeeperStorage(connections.zk, {
              root: '/options',
              maxNodeBytes: options.maxNodeBytes as number | undefined,
            });
          } catch (error) {
            expectTyped({ error }, InvalidOptionsError);
            return;
          }
          if (options.exists) await store.set(k, 'before');
          const setOptions = {
            ttlMs: options.ttlMs as number | undefined,
            ephemeral: options.ephemeral,
            expectedVersion: options.expectedVersion as number | undefined,
          };
          const outcome = await attempt(() =>
            options.create ? store.create(k, value, setOptions) : store.set(k, value, setOptions),
          );
          expectTyped(outcome, InvalidOptionsError, BadVersionError, NoNodeError, NodeExistsError);
          if ('ok' in outcome) {
            expect(await store.getValue(k)).toEqual(JSON.parse(JSON.stringify(value)));
          } else {
            expect((outcome.error as ZookeeperError).message).toBeTruthy();
          }
          await store.delete(k).catch(() => undefined);
        },
      ),
      fuzzParams(200),
    );
  });
});

describe('storage fuzzing: versions', () => {
  // Regression (seed 20260415, path "29:0:0:2:1:0:1:0:2:0:0:0:0:0:4:0:0:0:0:0:0:6:1:0:2:0:2:0:0:1:0:1:0:1:0:1:0:0:0:3:2:2:3"):
  // expectedVersion -2147483648.0000005 escaped as a RangeError from the request encoder; NaN
  // and 1.5 were written as versions 0 and 1.
  it.each([NaN, 1.5, -2, 2 ** 31, -2147483648.0000005, Infinity, '3' as unknown as number])(
    'expectedVersion %p is an InvalidOptionsError on the storage and the connection',
    async (version) => {
      await jsonStore.set('versioned', 1);
      await expect(
        jsonStore.set('versioned', 2, { expectedVersion: version }),
      ).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(
        jsonStore.delete('versioned', { expectedVersion: version }),
      ).rejects.toBeInstanceOf(InvalidOptionsError);
      const path = jsonStore.znodePath('versioned').replace(connections.namespace, '');
      await expect(connections.zk.set(path, '3', { version })).rejects.toBeInstanceOf(
        InvalidOptionsError,
      );
      await expect(connections.zk.delete(path, { version })).rejects.toBeInstanceOf(
        InvalidOptionsError,
      );
      await expect(
        connections.zk.transaction().set(path, '3', { version }).commit(),
      ).rejects.toBeInstanceOf(InvalidOptionsError);
      expect(await jsonStore.getValue('versioned')).toBe(1);
    },
  );
});

describe('storage fuzzing: readers of chunked values', () => {
  it('a reader racing rewrites of chunked values sees whole values only, and no error', async () => {
    const value = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ minLength: 65, maxLength: 600 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 8, max: 64 }),
        async (values, maxNodeBytes) => {
          const store = new ZookeeperStorage(connections.zk, {
            root: '/torn',
            serializer: new BufferSerializer(),
            maxNodeBytes,
          });
          const k = freshKey('torn');
          const known = new Set(values.map((v) => Buffer.from(v).toString('hex')));
          let writing = true;
          const seen: string[] = [];
          const errors: string[] = [];
          const reader = (async () => {
            while (writing) {
              try {
                const read = await store.getValue<Buffer>(k);
                if (read !== undefined) seen.push(read.toString('hex'));
              } catch (error) {
                errors.push(errorText(error));
              }
            }
          })();
          for (const bytes of values) await store.set(k, Buffer.from(bytes));
          writing = false;
          await reader;
          expect(errors).toEqual([]);
          for (const hex of seen) expect(known.has(hex)).toBe(true);
          expect((await store.getValue<Buffer>(k))?.toString('hex')).toBe(
            Buffer.from(values[values.length - 1]).toString('hex'),
          );
        },
      ),
      fuzzParams(30),
    );
  });
});
