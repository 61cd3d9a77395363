import { describe, expect, it, jest } from '@jest/globals';
import { BroadcastLog } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { collect, range } from './support.js';

const connections = useTestConnections('broadcast-fanout');

describe('broadcast fan-out cost', () => {
  it('N subscribers read each batch N times in all, not N × messages', async () => {
    const topic = '/topics/fanout';
    const publisher = new BroadcastLog<{ n: number }>(connections.zk, topic);
    await publisher.publish(range(0, 500)); // one batch
    await publisher.publish(range(500, 1000)); // and another
    const subscribers = await Promise.all(
      ['a', 'b', 'c'].map(async (id) => {
        const zk = await connections.open();
        const get = jest.spyOn(zk, 'get');
        return { id, get, log: new BroadcastLog<{ n: number }>(zk, topic) };
      }),
    );
    const received = await Promise.all(
      subscribers.map(({ id, log }) => collect(log, id, 1000, { from: 'earliest' })),
    );
    for (const deliveries of received) {
      expect(deliveries.map((d) => d.message.n)).toEqual(range(0, 1000).map((m) => m.n));
    }
    const batchReads = subscribers.map(
      ({ get }) => get.mock.calls.filter(([path]) => path.startsWith(`${topic}/log/`)).length,
    );
    expect(batchReads).toEqual([2, 2, 2]);
    await Promise.all([publisher, ...subscribers.map((s) => s.log)].map((log) => log.close()));
  });
});
