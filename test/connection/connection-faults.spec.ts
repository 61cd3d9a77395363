import { describe, expect, it } from '@jest/globals';
import {
  ConnectionState,
  CreateMode,
  NoNodeError,
  SessionExpiredError,
  WatchEventType,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { nextState, statesUntil } from '../support/connect.js';
import { DedicatedServer } from '../support/dedicated-server.js';

// These tests stop and restart their own server, so they never disturb other test files.
const dedicated = new DedicatedServer();
const open = (sessionTimeoutMs: number) => dedicated.connect({ sessionTimeoutMs });

describe('connection faults (real server)', () => {
  it('server stopped and restarted within the session timeout: SUSPENDED, then RECONNECTED with the same session and its ephemerals', async () => {
    // A session long enough to outlast the restart of a JVM on a loaded machine: the test is
    // about what happens within it (a shorter one expired during a slow restart in CI).
    const zk = await open(20_000);
    await zk.create('/survivor', 'me', { mode: CreateMode.EPHEMERAL });
    const sessionId = zk.session.id;
    const states = statesUntil(zk, ConnectionState.RECONNECTED);

    await dedicated.server.stop();
    await nextState(zk, ConnectionState.SUSPENDED);
    // A read issued while the server is down is retried and succeeds once it is back.
    const readDuringOutage = zk.get('/survivor');
    await dedicated.server.restart();

    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
    expect(zk.session.id).toBe(sessionId);
    expect((await readDuringOutage).data.toString()).toBe('me');
    expect((await zk.exists('/survivor'))!.ephemeralOwner).toBe(sessionId);
  });

  it('expireSession: EXPIRED, then a new session is CONNECTED; ephemerals and watches of the old one are gone', async () => {
    const zk = await open(4000);
    await zk.create('/doomed', '', { mode: CreateMode.EPHEMERAL });
    const watchEvents: string[] = [];
    await zk.get('/doomed', { watch: (event) => watchEvents.push(event.type) });
    const oldSession = zk.session.id;
    const states = statesUntil(zk, ConnectionState.CONNECTED);

    await expireSession(zk);

    expect(
      (await states).filter(
        (s) => s === ConnectionState.EXPIRED || s === ConnectionState.CONNECTED,
      ),
    ).toEqual([ConnectionState.EXPIRED, ConnectionState.CONNECTED]);
    expect(zk.session.id).not.toBe(oldSession);
    expect(watchEvents).toEqual([WatchEventType.SESSION_LOST]);
    expect(zk.pendingWatchCount).toBe(0);
    expect(await zk.exists('/doomed')).toBeUndefined();
    await zk.create('/reborn', 'x', { mode: CreateMode.EPHEMERAL });
    expect((await zk.exists('/reborn'))!.ephemeralOwner).toBe(zk.session.id);
  });

  it('server down for longer than the session timeout: EXPIRED is declared locally, a new session follows the restart', async () => {
    const zk = await open(1000);
    const negotiated = zk.session.timeoutMs;
    expect(negotiated).toBeLessThanOrEqual(1000);
    const oldSession = zk.session.id;
    const states = statesUntil(zk, ConnectionState.EXPIRED);

    await dedicated.server.stop();
    expect(await states).toEqual([ConnectionState.SUSPENDED, ConnectionState.EXPIRED]);
    const reconnected = nextState(zk, ConnectionState.CONNECTED);
    await dedicated.server.restart();
    await reconnected;
    expect(zk.session.id).not.toBe(oldSession);
    await expect(zk.get('/nothing-here')).rejects.toBeInstanceOf(NoNodeError);
  });

  it('gives up on a request after the retry deadline while the ensemble stays down', async () => {
    const zk = await dedicated.connect({
      sessionTimeoutMs: 20_000,
      retry: { deadlineMs: 1500, baseDelayMs: 50 },
    });
    await dedicated.server.stop();
    try {
      const error = await zk.exists('/anything').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(
        (error as { isRetryable?: boolean }).isRetryable || error instanceof SessionExpiredError,
      ).toBe(true);
    } finally {
      await dedicated.server.restart();
    }
    await zk.whenConnected();
    expect(await zk.exists('/')).toBeDefined();
  });
});
