import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { nodeName, ReadWriteLock, ZookeeperConnection } from 'nestjs-zookeeper';
import { useTestConnections } from '../../support/connect.js';
import { until } from '../../support/until.js';

const connections = useTestConnections('rwlock');

async function locks(count: number, path: string): Promise<ReadWriteLock[]> {
  const opened = await Promise.all(Array.from({ length: count }, () => connections.open()));
  return opened.map((connection) => new ReadWriteLock(connection, path));
}

describe('ReadWriteLock', () => {
  it('names nodes like Curator: _c_<uuid>-__READ__<seq> and _c_<uuid>-__WRITE__<seq>', async () => {
    const zk = await connections.open();
    const lock = new ReadWriteLock(zk, '/rw/names');
    await lock.writeLock.acquire();
    // A holder of the write lock may take the read lock too (downgrade), as in Curator.
    expect(await lock.readLock.acquire({ timeoutMs: 1000 })).toBe(true);
    expect(nodeName(lock.writeLock.nodePath!)).toMatch(/^_c_[0-9a-f-]{36}-__WRITE__\d{10}$/);
    expect(nodeName(lock.readLock.nodePath!)).toMatch(/^_c_[0-9a-f-]{36}-__READ__\d{10}$/);
    await lock.writeLock.release();
    // An upgrade would wait for our own read node forever: refused.
    await expect(lock.writeLock.acquire()).rejects.toThrow(/while holding its read lock/);
    await lock.readLock.release();
    expect(await zk.getChildren('/rw/names')).toEqual([]);
  });

  it('readers hold together; a writer waits for them and keeps later readers out', async () => {
    const zk = await connections.open();
    const [a, b, c, writer, late] = await locks(5, '/rw/share');
    for (const reader of [a, b, c])
      expect(await reader.readLock.acquire({ timeoutMs: 2000 })).toBe(true);
    expect([a, b, c].filter((reader) => reader.readLock.isHeld)).toHaveLength(3);

    expect(await writer.writeLock.acquire({ timeoutMs: 200 })).toBe(false);
    const writing = writer.writeLock.acquire({ timeoutMs: 10_000 });
    await until(async () => (await zk.getChildren('/rw/share')).length >= 4, {
      message: 'the writer to queue',
      timeoutMs: 10_000,
    });
    // A reader arriving after a queued writer waits for it.
    expect(await late.readLock.acquire({ timeoutMs: 200 })).toBe(false);

    for (const reader of [a, b, c]) await reader.readLock.release();
    expect(await writing).toBe(true);
    expect(await late.readLock.acquire({ timeoutMs: 200 })).toBe(false);
    await writer.writeLock.release();
    expect(await late.readLock.acquire({ timeoutMs: 2000 })).toBe(true);
    await late.readLock.release();
  });

  it('counts: writers exclude everyone, readers never see a write in progress', async () => {
    const zk: ZookeeperConnection = await connections.open();
    await zk.create('/rw-value', '0');
    const [w1, w2, w3, r1, r2, r3] = await locks(6, '/rw/counts');
    let readers = 0;
    let writers = 0;
    let maxWriters = 0;
    let overlaps = 0;
    let tornReads = 0;

    const write = async (lock: ReadWriteLock) => {
      for (let round = 0; round < 15; round++) {
        await lock.writeLock.acquire();
        writers++;
        maxWriters = Math.max(maxWriters, writers);
        if (readers > 0) overlaps++;
        const { data } = await zk.get('/rw-value');
        await delay(2); // a write that takes a while: room for an overlap to show
        await zk.set('/rw-value', String(Number(data.toString()) + 1));
        writers--;
        await lock.writeLock.release();
      }
    };
    const read = async (lock: ReadWriteLock) => {
      for (let round = 0; round < 15; round++) {
        await lock.readLock.acquire();
        readers++;
        if (writers > 0) overlaps++;
        const before = (await zk.get('/rw-value')).data.toString();
        await delay(15); // a read that takes a while: room for a write to land in it
        if ((await zk.get('/rw-value')).data.toString() !== before) tornReads++;
        readers--;
        await lock.readLock.release();
      }
    };
    await Promise.all([write(w1), write(w2), write(w3), read(r1), read(r2), read(r3)]);

    expect(Number((await zk.get('/rw-value')).data.toString())).toBe(45);
    expect(maxWriters).toBe(1);
    expect(overlaps).toBe(0);
    expect(tornReads).toBe(0);
    expect(await zk.getChildren('/rw/counts')).toEqual([]);
  }, 60_000);
});
