import { describe, expect, it } from '@jest/globals';
import { CapabilityMissingError, WatchEvent, WatchEventType } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = useTestConnections('persistent-watch');

const describeEvent = (event: WatchEvent) => `${event.type} ${event.path}`;

describe('ZookeeperConnection.addPersistentWatch', () => {
  it('a recursive watch reports every change below it with one server watch, until removed', async () => {
    const { zk } = connections;
    if (!zk.capabilities.persistentWatches) {
      await expect(zk.addPersistentWatch('/', () => undefined)).rejects.toBeInstanceOf(
        CapabilityMissingError,
      );
      return;
    }
    await zk.create('/tree');
    const events: WatchEvent[] = [];
    const remove = await zk.addPersistentWatch('/tree', (event) => events.push(event), {
      recursive: true,
    });
    await zk.create('/tree/a', '1');
    await zk.create('/tree/a/b', '2');
    await zk.set('/tree/a', '3');
    await zk.delete('/tree/a/b');
    await zk.create('/elsewhere');
    await until(() => events.length >= 4, { message: '4 events below /tree' });
    expect(events.map(describeEvent)).toEqual([
      'created /tree/a',
      'created /tree/a/b',
      'changed /tree/a',
      'deleted /tree/a/b',
    ]);
    expect(zk.pendingWatchCount).toBe(1);

    await remove();
    expect(zk.pendingWatchCount).toBe(0);
    await zk.set('/tree/a', '4');
    // A one-shot watch set after the change proves the server has answered in order since.
    await zk.sync('/tree');
    await zk.get('/tree/a');
    expect(events).toHaveLength(4);
  });

  it('a plain persistent watch sees its own node and its children list, and the session loss', async () => {
    const { zk } = connections;
    if (!zk.capabilities.persistentWatches) {
      await expect(zk.addPersistentWatch('/plain', () => undefined)).rejects.toThrow(
        /addPersistentWatch needs a driver with 'persistentWatches'; this connection uses 'native'/,
      );
      return;
    }
    const own = await connections.open();
    await own.create('/plain');
    const events: WatchEvent[] = [];
    await own.addPersistentWatch('/plain', (event) => events.push(event));
    await zk.set('/plain', 'x');
    await zk.create('/plain/child');
    await zk.set('/plain/child', 'not reported: not recursive');
    await zk.set('/plain', 'y');
    await until(() => events.length >= 3, { message: '3 events on /plain' });
    expect(events.map(describeEvent)).toEqual([
      'changed /plain',
      'children /plain',
      'changed /plain',
    ]);

    await expireSession(own);
    await until(() => events.length >= 4, { message: 'session-lost' });
    expect(events[3]).toEqual({ type: WatchEventType.SESSION_LOST, path: '/plain' });
    expect(own.pendingWatchCount).toBe(0);
  });
});
