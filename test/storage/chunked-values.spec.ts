import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { BufferSerializer, watchNode, ZookeeperStorage } from 'nestjs-zookeeper';
import { testConnectString, useTestConnections } from '../support/connect.js';
import { spawnFixture } from '../support/line-process.js';
import { Recorder } from '../support/watch-helpers.js';

const connections = useTestConnections('chunks');
let storage: ZookeeperStorage;
const MiB = 1024 * 1024;

beforeAll(() => {
  // Raw bytes: the JSON serializer refuses Buffers.
  storage = new ZookeeperStorage(connections.zk, { serializer: new BufferSerializer() });
});

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A short value as text, a long one by its size: a failed comparison never prints 10 MiB. */
const shown = (bytes: Buffer | undefined) =>
  bytes === undefined || bytes.length > 64 ? `<${bytes?.length} bytes>` : bytes.toString();

async function chunkGenerations(key: string): Promise<string[]> {
  return connections.zk.getChildren(`/storage/__chunks/${encodeURIComponent(key)}`).catch(() => []);
}

describe('chunked values', () => {
  it('stores a 10 MiB value across chunk znodes and reads it back intact', async () => {
    const value = randomBytes(10 * MiB);
    await storage.set('blob', value);
    const read = await storage.get<Buffer>('blob');
    expect(read!.value.length).toBe(10 * MiB);
    expect(digest(read!.value)).toBe(digest(value));
    expect(await chunkGenerations('blob')).toHaveLength(1);
    expect(await storage.list()).toEqual(['blob']);
  });

  it('never shows a torn value to a concurrent reader while 10 MiB values are rewritten', async () => {
    const versions = [randomBytes(10 * MiB), randomBytes(10 * MiB), randomBytes(10 * MiB)];
    const known = new Set(versions.map(digest));
    await storage.set('flip', versions[0]);
    let writing = true;
    const reads: string[] = [];
    const reader = (async () => {
      const readerConnection = await connections.open();
      const readerStorage = new ZookeeperStorage(readerConnection, {
        serializer: new BufferSerializer(),
      });
      while (writing) reads.push(digest((await readerStorage.get<Buffer>('flip'))!.value));
    })();
    try {
      for (let round = 1; round <= 6; round++) await storage.set('flip', versions[round % 3]);
    } finally {
      writing = false;
      await reader;
    }
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((seen) => !known.has(seen))).toEqual([]);
    expect(digest((await storage.get<Buffer>('flip'))!.value)).toBe(digest(versions[0]));
    // Each rewrite collected the generation it replaced.
    expect(await chunkGenerations('flip')).toHaveLength(1);
  }, 120_000);

  it('a writer killed with SIGKILL between chunks leaves no visible value, and its generation is collected', async () => {
    const { zk } = connections;
    await storage.set('crash', Buffer.from('before'));
    // The writer holds its chunk writes back after the 4th: killed between chunks.
    const child = spawnFixture('chunk-writer', 'test/storage/fixtures/chunk-writer.ts', [
      testConnectString(),
      connections.namespace,
      'crash',
      String(10 * MiB),
      '4',
    ]);
    try {
      await child.waitForWord('paused', 30_000);
    } finally {
      await child.stop('SIGKILL');
    }

    const [orphan] = await chunkGenerations('crash');
    const written = await zk.getChildren(`/storage/__chunks/crash/${orphan}`);
    expect(written.length).toBeLessThan(10 * 16 + 1);
    expect(shown(await storage.getValue<Buffer>('crash'))).toBe('before');

    // The killed writer's marker lives until its session (1 s timeout) expires.
    const marker = new Recorder(watchNode(zk, `/storage/__chunks/crash/${orphan}/__writing`));
    await marker.until((node) => node === undefined, "the killed writer's marker to go", 15_000);
    marker.unsubscribe();
    expect((await storage.gc()).generationsRemoved).toBe(1);
    expect(await chunkGenerations('crash')).toEqual([]);
    expect(shown(await storage.getValue<Buffer>('crash'))).toBe('before');
  }, 60_000);

  it('collects an orphaned generation on the next write of the key', async () => {
    await connections.zk.create(
      `/storage/__chunks/${encodeURIComponent('later')}/orphan-gen/000000`,
      'partial',
      { createParents: true },
    );
    await storage.set('later', randomBytes(2 * MiB));
    expect(await chunkGenerations('later')).toHaveLength(1);
    expect(await chunkGenerations('later')).not.toContain('orphan-gen');
    await storage.set('later', Buffer.from('small again'));
    expect(await chunkGenerations('later')).toEqual([]);
    expect(await storage.getValue('later')).toEqual(Buffer.from('small again'));
  });
});
