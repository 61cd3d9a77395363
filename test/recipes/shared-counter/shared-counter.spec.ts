import { describe, expect, it } from '@jest/globals';
import {
  decodeCount,
  encodeCount,
  InvalidCounterValueError,
  InvalidOptionsError,
  SharedCounter,
  ZookeeperError,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../../support/connect.js';
import { Recorder } from '../../support/watch-helpers.js';

const connections = useTestConnections('counter');

describe('SharedCounter', () => {
  it('8 sessions x 50 increments end at exactly 400, and value$ converges to it', async () => {
    const { zk } = connections;
    const sessions = await Promise.all(Array.from({ length: 8 }, () => connections.open()));
    const watcher = new Recorder(new SharedCounter(zk, '/counters/hits').value$);
    const written: number[] = [];
    await Promise.all(
      sessions.map(async (session) => {
        const counter = new SharedCounter(session, '/counters/hits');
        for (let i = 0; i < 50; i++) written.push(await counter.increment());
      }),
    );
    expect(await new SharedCounter(zk, '/counters/hits').get()).toBe(400);
    // Every increment wrote a distinct value: no two CAS winners on one version.
    expect(new Set(written).size).toBe(400);
    expect(Math.min(...written)).toBe(1);
    await watcher.until((value) => value === 400, 'value$ to reach 400');
    const seen = watcher.values;
    expect(seen.every((value, i) => i === 0 || value > seen[i - 1])).toBe(true);
    watcher.unsubscribe();
  });

  it('stores a 4-byte big-endian int32 like Curator SharedCount, created with the initial value', async () => {
    const { zk } = connections;
    const counter = new SharedCounter(zk, '/counters/format', 7);
    expect(await counter.get()).toBe(7);
    expect((await zk.get('/counters/format')).data).toEqual(Buffer.from([0, 0, 0, 7]));
    await counter.set(-2);
    expect((await zk.get('/counters/format')).data).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    // A value written by Curator (Java's ByteBuffer.putInt(0x01020304)) reads back.
    await zk.set('/counters/format', Buffer.from([1, 2, 3, 4]));
    expect(await counter.get()).toBe(0x01020304);
    expect(encodeCount(2 ** 31 - 1)).toEqual(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    expect(decodeCount(Buffer.from([0x80, 0, 0, 0]))).toBe(-(2 ** 31));
    expect(() => encodeCount(2 ** 31)).toThrow(InvalidOptionsError);
    expect(() => encodeCount(1.5)).toThrow(/32-bit integer .* got 1\.5: keep set/);
    await zk.set('/counters/format', 'not-an-int');
    await expect(counter.get()).rejects.toBeInstanceOf(InvalidCounterValueError);
  });

  it('trySet is compare-and-set by version or by value; increment refuses to overflow', async () => {
    const { zk } = connections;
    const counter = new SharedCounter(zk, '/counters/cas');
    const start = await counter.getVersioned();
    expect(start).toEqual({ value: 0, version: 0 });
    expect(await counter.trySet(start, 10)).toBe(true);
    expect(await counter.trySet(start, 20)).toBe(false); // stale version
    expect(await counter.trySet(0, 20)).toBe(false); // stale value
    expect(await counter.trySet(10, 20)).toBe(true);
    expect(await counter.getVersioned()).toEqual({ value: 20, version: 2 });
    await counter.set(2 ** 31 - 1);
    await expect(counter.increment()).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(counter.set(2 ** 31)).rejects.toBeInstanceOf(ZookeeperError);
    await expect(counter.increment(0.5)).rejects.toThrow(/'delta' must be an integer, got 0\.5/);
    expect(await counter.get()).toBe(2 ** 31 - 1);
    expect(await counter.increment(-(2 ** 31 - 1))).toBe(0);
  });
});
