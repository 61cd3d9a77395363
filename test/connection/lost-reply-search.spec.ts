// After a lost reply to a protected create, the retry looks for the node the first attempt may
// have made. The server it reconnected to may be a follower that has not applied that create yet:
// the search must sync first, or it misses the node and creates (and appends) twice.
import { afterAll, describe, expect, it } from '@jest/globals';
import { CreateMode } from 'nestjs-zookeeper';
import { planCreate, createAttempt } from '../../libs/zookeeper/src/connection/create-request.js';
import { DriverSession } from '../../libs/zookeeper/src/driver/driver-session.interface.js';
import { testConnectString, testNamespace } from '../support/connect.js';
import { mkdirs, WireSessions } from '../driver/wire/wire-helpers.js';

const sessions = new WireSessions();
afterAll(() => sessions.closeAll());

/** The session, with the order of its read and sync requests recorded. */
function recorded(session: DriverSession, calls: string[]): DriverSession {
  return new Proxy(session, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'sync' || property === 'getChildren' || property === 'create') {
          calls.push(`${String(property)} ${String(args[0])}`);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('the search after a lost reply to a protected create', () => {
  it('syncs the parent before it lists it, so a lagging server cannot hide the first attempt', async () => {
    const { session } = await sessions.open({ connectString: testConnectString() });
    const parent = `${testNamespace('lost-reply')}/log`;
    await mkdirs(session, parent);
    const plan = planCreate(
      `${parent}/entry-`,
      'batch',
      { mode: CreateMode.PERSISTENT_SEQUENTIAL },
      undefined,
    );
    const attempt = (isRetry: boolean, calls: string[]) =>
      createAttempt(
        plan,
        true,
        (path) => path,
        async () => undefined,
      )(recorded(session, calls), isRetry);

    // The first attempt's create went through; its reply is taken as lost.
    const created = await attempt(false, []);
    const calls: string[] = [];
    const found = await attempt(true, calls);

    expect(found).toBe(created);
    expect(calls).toEqual([`sync ${parent}`, `getChildren ${parent}`]);
    const { children } = await session.getChildren(parent, false);
    expect(children).toHaveLength(1);
  });
});
