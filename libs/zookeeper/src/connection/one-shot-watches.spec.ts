import { describe, expect, it } from '@jest/globals';
import { WatchLimitError } from '../errors/library-errors.js';
import { OneShotWatches } from './one-shot-watches.js';
import { WatchEvent, WatchEventType } from './zookeeper-types.js';

describe('OneShotWatches', () => {
  it('routes events like ZooKeeper: data watches on created/changed/deleted, child watches on children/deleted', () => {
    const watches = new OneShotWatches(() => undefined);
    const seen: string[] = [];
    const record = (label: string) => (event: WatchEvent) =>
      seen.push(`${label}:${event.type}:${event.path}`);
    watches.add('data', '/ns/a', record('data'));
    watches.add('children', '/ns/a', record('kids'));
    watches.dispatch(WatchEventType.CHANGED, '/ns/a', '/a');
    watches.dispatch(WatchEventType.CHANGED, '/ns/a', '/a');
    watches.dispatch(WatchEventType.DELETED, '/ns/a', '/a');
    expect(seen).toEqual(['data:changed:/a', 'kids:deleted:/a']);
    expect(watches.size).toBe(0);
  });

  it('fires each watcher once, tells pending ones that the session is lost, and survives a throwing watcher', () => {
    const errors: unknown[] = [];
    const watches = new OneShotWatches((error) => errors.push(error));
    const seen: WatchEvent[] = [];
    watches.add('data', '/x', () => {
      throw new Error('boom');
    });
    watches.add('data', '/x', (event) => seen.push(event));
    const withdraw = watches.add('children', '/y', (event) => seen.push(event));
    withdraw();
    watches.add('children', '/z', (event) => seen.push(event));
    watches.loseAll((serverPath) => serverPath);
    expect(seen).toEqual([
      { type: WatchEventType.SESSION_LOST, path: '/x' },
      { type: WatchEventType.SESSION_LOST, path: '/z' },
    ]);
    expect(errors).toHaveLength(1);
    expect(watches.size).toBe(0);
  });

  it('refuses a watch on a new path past the SetWatches budget, counts each path once per kind and frees it when fired', () => {
    // '/a' and '/b' take 4 + 2 bytes each in a SetWatches packet.
    const watches = new OneShotWatches(() => undefined, 12);
    watches.add('data', '/a', () => undefined);
    watches.add('data', '/a', () => undefined);
    watches.add('children', '/a', () => undefined);
    expect(watches.packetSize).toBe(12);
    expect(() => watches.add('data', '/b', () => undefined)).toThrow(WatchLimitError);
    watches.dispatch(WatchEventType.CHANGED, '/a', '/a');
    expect(watches.packetSize).toBe(6);
    const withdraw = watches.add('data', '/b', () => undefined);
    withdraw();
    expect(watches.packetSize).toBe(6);
    watches.loseAll((path) => path);
    expect(watches.packetSize).toBe(0);
  });
});
