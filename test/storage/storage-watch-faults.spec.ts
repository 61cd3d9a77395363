import { beforeAll, describe, expect, it } from '@jest/globals';
import { StorageEntry, ZookeeperConnection, ZookeeperStorage } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { DedicatedServer } from '../support/dedicated-server.js';
import { isStrictlyIncreasing, Recorder } from '../support/watch-helpers.js';

// Restarts its own server, so other test files never notice.
const dedicated = new DedicatedServer();
let watcherZk: ZookeeperConnection;
let watching: ZookeeperStorage;
let writing: ZookeeperStorage;

beforeAll(async () => {
  watcherZk = await dedicated.connect({ retry: { deadlineMs: 30_000 } });
  watching = new ZookeeperStorage(watcherZk);
  writing = new ZookeeperStorage(await dedicated.connect({ retry: { deadlineMs: 30_000 } }));
});

const versionsOf = (values: ReadonlyArray<StorageEntry<number> | undefined>) =>
  values.filter((entry) => entry !== undefined).map((entry) => entry!.version);

describe('storage watches under faults', () => {
  it('a watcher ends on the final value, in version order, across a server restart', async () => {
    await writing.set('across-restart', 0);
    const seen = new Recorder(watching.watch<number>('across-restart'));
    for (let n = 1; n <= 500; n++) await writing.set('across-restart', n);
    await dedicated.server.restart();
    for (let n = 501; n <= 1000; n++) await writing.set('across-restart', n);
    await seen.until((entry) => entry?.value === 1000, 'the final value');
    expect(isStrictlyIncreasing(versionsOf(seen.values))).toBe(true);
    expect(seen.values.every((entry) => entry!.value === entry!.version)).toBe(true);
    seen.unsubscribe();
  }, 60_000);

  it('a watcher ends on the final value, in version order, across its session expiry', async () => {
    await writing.set('across-expiry', 0);
    const seen = new Recorder(watching.watch<number>('across-expiry'));
    await seen.until((entry) => entry?.value === 0, 'the initial value');
    const writes = (async () => {
      for (let n = 1; n <= 1000; n++) await writing.set('across-expiry', n);
    })();
    await expireSession(watcherZk);
    await writes;
    await seen.until((entry) => entry?.value === 1000, 'the final value');
    expect(isStrictlyIncreasing(versionsOf(seen.values))).toBe(true);
    seen.unsubscribe();
  }, 60_000);
});
