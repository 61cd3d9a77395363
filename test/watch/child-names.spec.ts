import { describe, expect, it } from '@jest/globals';
import { followChildNames, ZookeeperConnection } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { Observable } from 'rxjs';
import { DedicatedServer } from '../support/dedicated-server.js';
import { until } from '../support/until.js';

// Restarts and session expiry: a server of this file's own.
const dedicated = new DedicatedServer();

/** The latest emission of `names$`, kept as it comes. */
function follow(names$: Observable<readonly string[]>) {
  const seen = { latest: undefined as string[] | undefined, emissions: 0 };
  const subscription = names$.subscribe((names) => {
    seen.latest = [...names].sort();
    seen.emissions++;
  });
  return { seen, stop: () => subscription.unsubscribe() };
}

/** Counts the children listings `zk` sends from now on (the real calls still run). */
function countListings(zk: ZookeeperConnection): { count: number } {
  const counter = { count: 0 };
  for (const method of ['getChildren', 'getChildrenWithStat'] as const) {
    const original = zk[method].bind(zk) as (...args: unknown[]) => Promise<unknown>;
    (zk as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}

const sorted = (names: readonly string[]) => [...names].sort();

describe('followChildNames', () => {
  it("follows creates and deletes: after each change, the same names as the node's children", async () => {
    const zk = await dedicated.connect();
    const writer = await dedicated.connect();
    const path = '/follow/basic';
    await writer.mkdirp(path);
    await writer.create(`${path}/before`);
    const { seen, stop } = follow(followChildNames(zk, path));
    await until(() => seen.latest?.join() === 'before', { message: 'the first listing' });
    for (let i = 0; i < 30; i++) await writer.create(`${path}/c${i}`);
    for (let i = 0; i < 10; i++) await writer.delete(`${path}/c${i}`);
    await writer.delete(`${path}/before`);
    const expected = sorted(await writer.getChildren(path));
    expect(expected).toHaveLength(20);
    await until(() => seen.latest?.join() === expected.join(), {
      message: () => `the children after the changes (seen ${seen.latest?.length})`,
    });
    stop();
  });

  it('does not list the children again per change (one persistent watch), with many children', async () => {
    const zk = await dedicated.connect();
    if (!zk.capabilities.persistentWatches) return;
    const writer = await dedicated.connect();
    const path = '/follow/many';
    await writer.mkdirp(path);
    await Promise.all(Array.from({ length: 500 }, (_, i) => writer.create(`${path}/old${i}`)));
    const { seen, stop } = follow(followChildNames(zk, path));
    await until(() => seen.latest?.length === 500, { message: 'the first listing' });
    const listings = countListings(zk);
    for (let i = 0; i < 50; i++) await writer.create(`${path}/new${i}`);
    await until(() => seen.latest?.length === 550, { message: 'the 50 new children' });
    // watchChildren lists all 500+ names again after each of the 50 changes.
    expect(listings.count).toBe(0);
    stop();
  });

  it('emits [] while the node is missing, its children once it is created, [] once deleted', async () => {
    const zk = await dedicated.connect();
    const writer = await dedicated.connect();
    const path = '/follow/later';
    const { seen, stop } = follow(followChildNames(zk, path));
    await until(() => seen.latest?.join() === '', { message: 'the empty first emission' });
    await writer.mkdirp(`${path}/a`);
    await until(() => seen.latest?.join() === 'a', { message: 'the child of the created node' });
    await writer.delete(`${path}/a`);
    await writer.delete(path);
    await until(() => seen.latest?.join() === '', { message: 'nothing once deleted' });
    await writer.mkdirp(`${path}/b`);
    await until(() => seen.latest?.join() === 'b', { message: 'the child once created again' });
    stop();
  });

  it('converges after a server restart and after a session expiry, changes made meanwhile included', async () => {
    const zk = await dedicated.connect();
    const writer = await dedicated.connect();
    const path = '/follow/faults';
    await writer.mkdirp(`${path}/a`);
    const { seen, stop } = follow(followChildNames(zk, path));
    await until(() => seen.latest?.join() === 'a', { message: 'the first listing' });

    await dedicated.server.restart();
    await writer.whenConnected();
    await writer.create(`${path}/b`);
    await until(() => seen.latest?.join() === 'a,b', {
      message: () => `a,b after the restart (seen ${seen.latest?.join()})`,
    });

    await expireSession(zk);
    // While the follower's new session is being set up.
    await writer.create(`${path}/c`);
    await writer.delete(`${path}/a`);
    await until(() => seen.latest?.join() === 'b,c', {
      message: () => `b,c after the expiry (seen ${seen.latest?.join()})`,
    });
    // And the watch of the new session reports the next change.
    await writer.create(`${path}/d`);
    await until(() => seen.latest?.join() === 'b,c,d', {
      message: () => `b,c,d on the new session (seen ${seen.latest?.join()})`,
    });
    stop();
  }, 60_000);

  it('after a session expiry, no emission holds a child created after the new watch without one created before it', async () => {
    const zk = await dedicated.connect();
    if (!zk.capabilities.persistentWatches) return;
    const writer = await dedicated.connect();
    const path = '/follow/expiry-gap';
    await writer.mkdirp(path);
    const emissions: string[][] = [];
    const subscription = followChildNames(zk, path).subscribe((names) =>
      emissions.push(sorted(names)),
    );
    await until(() => emissions.length > 0, { message: 'the first listing' });
    // The new session's watch: one child created before it is added, one after it, whose event
    // reaches the follower before the add's reply is handled (the widest the window can be).
    const add = zk.addPersistentWatch.bind(zk);
    let around = true;
    zk.addPersistentWatch = async (watched, watcher, options) => {
      if (!around || watched !== path) return add(watched, watcher, options);
      around = false;
      await writer.create(`${path}/before`);
      let seen!: () => void;
      const afterSeen = new Promise<void>((resolve) => (seen = resolve));
      const remove = await add(
        watched,
        (event) => {
          watcher(event);
          if (event.path === `${path}/after`) seen();
        },
        options,
      );
      await writer.create(`${path}/after`);
      await afterSeen;
      return remove;
    };
    await expireSession(zk);
    await until(() => emissions.at(-1)?.join() === 'after,before', {
      message: () => `both children (emissions ${JSON.stringify(emissions)})`,
    });
    expect(around).toBe(false);
    // A subscriber that saw 'after' alone would have moved past 'before' for good.
    for (const names of emissions) if (names.includes('after')) expect(names).toContain('before');
    subscription.unsubscribe();
  }, 60_000);
});
