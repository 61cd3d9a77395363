import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadVersionError,
  BufferSerializer,
  NotEmptyError,
  ZookeeperConnection,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';

const connections = useTestConnections('chunk-flags');
/** Small znodes: a "large" value of 4 KB is 4 chunks, cheap enough to write hundreds of times. */
const MAX_NODE_BYTES = 1000;
let storage: ZookeeperStorage;

beforeAll(() => {
  storage = storageOn(connections.zk);
});

function storageOn(connection: ZookeeperConnection): ZookeeperStorage {
  return new ZookeeperStorage(connection, {
    serializer: new BufferSerializer(),
    maxNodeBytes: MAX_NODE_BYTES,
  });
}

const large = () => randomBytes(4 * MAX_NODE_BYTES);
const small = (text: string) => Buffer.from(text);
const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The generations in the key's chunk folder (`<root>/__chunks/<encoded key>`). */
function generations(key: string): Promise<string[]> {
  return connections.zk.getChildren(`/storage/__chunks/${encodeURIComponent(key)}`).catch(() => []);
}

async function headChildren(key: string): Promise<string[]> {
  return (await connections.zk.getChildren(`/storage/${key}`)).sort();
}

const REQUESTS = [
  'create',
  'get',
  'exists',
  'getChildrenWithStat',
  'set',
  'delete',
  'mkdirp',
  'multi',
  'sync',
  'getAcl',
  'setAcl',
] as const;

/**
 * Records every request method called on `connection` while `fn` runs (getChildren is counted as
 * the getChildrenWithStat it calls).
 */
async function requestsOf(connection: ZookeeperConnection, fn: () => Promise<unknown>) {
  const calls: string[] = [];
  const patched = connection as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of REQUESTS) {
    const original = patched[name].bind(connection);
    patched[name] = (...args: unknown[]) => {
      calls.push(name);
      return original(...args);
    };
  }
  try {
    await fn();
  } finally {
    for (const name of REQUESTS) delete patched[name];
  }
  return calls;
}

describe('one request per small write', () => {
  it('an unconditional or versioned write of a small value to a leaf key is one set', async () => {
    const own = storageOn(await connections.open());
    await own.set('leaf', small('first'));
    expect(await requestsOf(own.connection, () => own.set('leaf', small('second')))).toEqual([
      'set',
    ]);
    const { version } = (await own.get('leaf'))!;
    expect(
      await requestsOf(own.connection, () =>
        own.set('leaf', small('third'), { expectedVersion: version }),
      ),
    ).toEqual(['set']);
    // A read-modify-write knows the bytes it replaced: one read, one write.
    expect(
      await requestsOf(own.connection, () => own.update<Buffer>('leaf', () => small('fourth'))),
    ).toEqual(['get', 'set']);
    expect(await own.getValue('leaf')).toEqual(small('fourth'));
  });

  it('a key with sub-keys costs one more request: is its head flagged?', async () => {
    const own = storageOn(await connections.open());
    await own.set('parent', small('p'));
    await own.set('parent/child', small('c'));
    expect(await requestsOf(own.connection, () => own.set('parent', small('q')))).toEqual([
      'set',
      'exists',
    ]);
  });
});

describe('chunk flags', () => {
  it('large → small collects the old generation and the flag', async () => {
    await storage.set('flip', large());
    expect(await generations('flip')).toHaveLength(1);
    expect(await headChildren('flip')).toEqual(['__chunked']);
    expect(await storage.list()).toContain('flip');
    expect(await storage.list('flip')).toEqual([]);

    await storage.set('flip', small('small now'));
    expect(await generations('flip')).toEqual([]);
    expect(await headChildren('flip')).toEqual([]);
    expect(await storage.getValue('flip')).toEqual(small('small now'));
  });

  it('small → large → small on a key with sub-keys keeps the sub-keys and collects', async () => {
    await storage.set('tree', small('root'));
    await storage.set('tree/a', small('a'));
    const value = large();
    await storage.set('tree', value);
    expect(digest((await storage.getValue<Buffer>('tree'))!)).toBe(digest(value));
    expect(await headChildren('tree')).toEqual(['__chunked', 'a']);
    expect(await storage.list('tree')).toEqual(['tree/a']);

    await storage.set('tree', small('root again'));
    expect(await generations('tree')).toEqual([]);
    expect(await headChildren('tree')).toEqual(['a']);
    expect(await storage.getValue('tree')).toEqual(small('root again'));
    expect(await storage.getValue('tree/a')).toEqual(small('a'));
  });

  it('deleting a chunked key leaves nothing; a refused delete leaves the value and its flag', async () => {
    const { zk } = connections;
    await storage.set('gone', large());
    await storage.delete('gone');
    expect(await zk.exists('/storage/gone')).toBeUndefined();
    expect(await zk.exists(`/storage/__chunks/gone`)).toBeUndefined();

    const value = large();
    const { version } = await storage.set('kept', value);
    await expect(storage.delete('kept', { expectedVersion: version + 1 })).rejects.toBeInstanceOf(
      BadVersionError,
    );
    await storage.set('kept/child', small('c'));
    await expect(storage.delete('kept')).rejects.toBeInstanceOf(NotEmptyError);
    expect(digest((await storage.getValue<Buffer>('kept'))!)).toBe(digest(value));
    expect(await headChildren('kept')).toEqual(['__chunked', 'child']);

    await storage.delete('kept', { recursive: true });
    expect(await zk.exists('/storage/kept')).toBeUndefined();
    expect(await generations('kept')).toEqual([]);
  });

  it('a reader never sees a torn value while a writer flips large and small values 200 times', async () => {
    const values = [small('zero'), large(), small('two'), large()];
    const known = new Set(values.map(digest));
    await storage.set('flipping', values[1]);
    const reader = storageOn(await connections.open());
    let writing = true;
    let reads = 0;
    const unknown: string[] = [];
    const reading = (async () => {
      while (writing) {
        const read = await reader.getValue<Buffer>('flipping');
        reads++;
        if (!read || !known.has(digest(read))) unknown.push(read ? `${read.length} bytes` : 'none');
      }
    })();
    try {
      for (let flip = 1; flip <= 200; flip++) await storage.set('flipping', values[flip % 4]);
    } finally {
      writing = false;
      await reading;
    }
    expect(reads).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
    // The last flip wrote a small value: nothing is left behind.
    expect(await storage.getValue('flipping')).toEqual(small('zero'));
    expect(await generations('flipping')).toEqual([]);
    expect(await headChildren('flipping')).toEqual([]);
  }, 300_000);
});

describe('values written before chunk flags', () => {
  /** Writes a chunked value the way the storage did before flags (no `__chunked` child). */
  async function writeUnflagged(key: string, bytes: Buffer, generation: string): Promise<void> {
    const { zk } = connections;
    const folder = `/storage/__chunks/${encodeURIComponent(key)}/${generation}`;
    await zk.create(folder, JSON.stringify({ key, size: bytes.length }), { createParents: true });
    const chunks = Math.ceil(bytes.length / MAX_NODE_BYTES);
    for (let index = 0; index < chunks; index++) {
      const slice = bytes.subarray(index * MAX_NODE_BYTES, (index + 1) * MAX_NODE_BYTES);
      await zk.create(`${folder}/${String(index).padStart(6, '0')}`, slice);
    }
    const manifest = { generation, chunks, size: bytes.length, sha256: digest(bytes) };
    const head = Buffer.concat([
      Buffer.from('\u0000nestjs-zookeeper:chunked:v1\n', 'utf8'),
      Buffer.from(JSON.stringify(manifest), 'utf8'),
    ]);
    await zk.create(`/storage/${key}`, head, { createParents: true });
  }

  it('reads them, and gc() collects the chunks a small write left behind', async () => {
    const value = large();
    await writeUnflagged('legacy', value, 'old-generation');
    expect(digest((await storage.getValue<Buffer>('legacy'))!)).toBe(digest(value));

    // Unflagged, the head looks like a plain leaf: the write is one set, the chunks stay.
    expect(await requestsOf(storage.connection, () => storage.set('legacy', small('s')))).toEqual([
      'set',
    ]);
    expect(await generations('legacy')).toEqual(['old-generation']);
    expect(await storage.getValue('legacy')).toEqual(small('s'));
    const swept = await storage.gc();
    expect(swept.generationsRemoved).toBeGreaterThanOrEqual(1);
    expect(await generations('legacy')).toEqual([]);
  });

  it('a large write over one collects its generation and flags the head', async () => {
    await writeUnflagged('legacy-big', large(), 'old-generation');
    const value = large();
    await storage.set('legacy-big', value);
    expect(digest((await storage.getValue<Buffer>('legacy-big'))!)).toBe(digest(value));
    const [current] = await generations('legacy-big');
    expect(current).not.toBe('old-generation');
    expect(await generations('legacy-big')).toHaveLength(1);
    expect(await headChildren('legacy-big')).toEqual(['__chunked']);
  });
});

describe('heads that are never flagged', () => {
  it('ephemeral keys hold large values; a small write looks in the chunk folder and collects', async () => {
    const owner = await connections.open();
    const own = storageOn(owner);
    const value = large();
    await own.set('presence', value, { ephemeral: true });
    expect(digest((await storage.getValue<Buffer>('presence'))!)).toBe(digest(value));
    expect(await generations('presence')).toHaveLength(1);

    const calls = await requestsOf(owner, () => own.set('presence', small('here')));
    expect(calls.slice(0, 2)).toEqual(['set', 'getChildrenWithStat']);
    expect(await generations('presence')).toEqual([]);
    expect(await own.getValue('presence')).toEqual(small('here'));

    // The session dies with a large value: its chunks go with the next sweep.
    await own.set('presence', large());
    own.close();
    await owner.close();
    await connections.zk.sync('/');
    expect(await storage.has('presence')).toBe(false);
    expect((await storage.gc()).generationsRemoved).toBeGreaterThanOrEqual(1);
    expect(await generations('presence')).toEqual([]);
  });

  it('TTL writes do not flag the head (a child would keep it from expiring)', async () => {
    await storage.set('cache', large(), { ttlMs: 600_000 });
    expect(await headChildren('cache')).toEqual([]);
    expect(await generations('cache')).toHaveLength(1);
    await storage.set('cache', small('fresh'), { ttlMs: 600_000 });
    expect(await generations('cache')).toEqual([]);
    expect(await storage.getValue('cache')).toEqual(small('fresh'));
  });
});
