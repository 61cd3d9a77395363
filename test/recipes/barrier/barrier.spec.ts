import { describe, expect, it } from '@jest/globals';
import { Barrier, DoubleBarrier } from 'nestjs-zookeeper';
import { useTestConnections } from '../../support/connect.js';
import { until } from '../../support/until.js';

const connections = useTestConnections('barrier');

describe('Barrier', () => {
  it('holds 3 waiters from 3 sessions while set and releases all 3 when removed', async () => {
    const { zk } = connections;
    const controller = new Barrier(zk, '/gates/deploy');
    await controller.set();
    await controller.set(); // idempotent
    const sessions = await Promise.all([1, 2, 3].map(() => connections.open()));
    const released: number[] = [];
    const waits = sessions.map((session, index) =>
      new Barrier(session, '/gates/deploy').waitOnBarrier().then((result) => {
        released.push(index);
        return result;
      }),
    );
    // Waiting: each has read the barrier as up and watches it.
    await until(() => sessions.every((session) => session.pendingWatchCount === 1), {
      message: 'the 3 waiters to watch the barrier',
    });
    expect(released).toEqual([]);
    expect(await new Barrier(sessions[0], '/gates/deploy').waitOnBarrier({ timeoutMs: 100 })).toBe(
      false,
    );

    await controller.remove();
    expect(await Promise.all(waits)).toEqual([true, true, true]);
    expect(released.sort()).toEqual([0, 1, 2]);
    expect(await new Barrier(zk, '/gates/deploy').waitOnBarrier({ timeoutMs: 0 })).toBe(true);
    await controller.remove(); // idempotent
  });
});

describe('DoubleBarrier', () => {
  it('lets 3 participants in only once all 3 entered, and out only once all 3 left', async () => {
    const { zk } = connections;
    const sessions = await Promise.all([1, 2, 3].map(() => connections.open()));
    const barriers = sessions.map((session) => new DoubleBarrier(session, '/rounds/r1', 3));
    const events: string[] = [];
    const enter = (index: number) =>
      barriers[index].enter().then((entered) => {
        events.push(`in-${index}`);
        return entered;
      });
    const leave = (index: number) =>
      barriers[index].leave().then((left) => {
        events.push(`out-${index}`);
        return left;
      });

    const firstTwo = [enter(0), enter(1)];
    // Waiting: both joined and watch `ready` and the participants.
    await until(
      async () =>
        (await zk.getChildren('/rounds/r1').catch(() => [])).length === 2 &&
        sessions.slice(0, 2).every((session) => session.pendingWatchCount >= 2),
      { message: 'the first 2 participants to wait inside enter' },
    );
    expect(events).toEqual([]);
    expect(await zk.getChildren('/rounds/r1')).toHaveLength(2);
    const third = enter(2);
    expect(await Promise.all([...firstTwo, third])).toEqual([true, true, true]);
    expect(events.filter((event) => event.startsWith('in-')).sort()).toEqual([
      'in-0',
      'in-1',
      'in-2',
    ]);

    const leavingTwo = [leave(0), leave(1)];
    // Waiting: the lowest participant keeps its node, the other leavers deleted theirs, and both
    // leavers watch a node they wait for.
    const ids = barriers.map((barrier) => barrier.participantId);
    const lowest = [...ids].sort()[0];
    const staying = ids.filter((id, index) => index === 2 || id === lowest).sort();
    await until(
      async () =>
        JSON.stringify(participantsOf(await zk.getChildren('/rounds/r1'))) ===
          JSON.stringify(staying) &&
        sessions.slice(0, 2).every((session) => session.pendingWatchCount >= 1),
      { message: 'the 2 leavers to wait inside leave' },
    );
    expect(events.filter((event) => event.startsWith('out-'))).toEqual([]);
    const last = leave(2);
    expect(await Promise.all([...leavingTwo, last])).toEqual([true, true, true]);
    expect(events.filter((event) => event.startsWith('out-')).sort()).toEqual([
      'out-0',
      'out-1',
      'out-2',
    ]);
    // Nothing left behind: no participant nodes, no `ready`.
    expect(await zk.getChildren('/rounds/r1')).toEqual([]);
  });

  it('enter times out with fewer participants than required and withdraws its node', async () => {
    const { zk } = connections;
    const barrier = new DoubleBarrier(zk, '/rounds/r2', 2);
    const started = Date.now();
    expect(await barrier.enter({ timeoutMs: 300 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await zk.getChildren('/rounds/r2')).toEqual([]);
  });
});

/** Participant nodes (without `ready`), sorted. */
function participantsOf(children: string[]): string[] {
  return children.filter((name) => name !== 'ready').sort();
}
