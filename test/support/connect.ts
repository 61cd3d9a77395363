import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import { filter, firstValueFrom, skip, takeWhile, tap, throwError, timeout, toArray } from 'rxjs';
import { ConnectionState, ZookeeperConnection, ZookeeperOptions } from 'nestjs-zookeeper';

/** The ensemble the whole test run uses (started by global-setup, or ZK_CONNECT). */
export function testConnectString(): string {
  const connectString = process.env.ZK_TEST_CONNECT;
  if (!connectString) throw new Error('ZK_TEST_CONNECT is not set: run the tests with `npm test`');
  return connectString;
}

/**
 * A namespace of its own for each test file (`/tests/<label>-<uuid>`), so files running in
 * parallel against the shared server never see each other's znodes.
 */
export function testNamespace(label: string): string {
  return `/tests/${label}-${randomUUID().slice(0, 8)}`;
}

/** Connections opened by a test file, closed by `closeAll` in afterAll. */
export class TestConnections {
  private readonly opened: ZookeeperConnection[] = [];
  private shared?: ZookeeperConnection;

  constructor(readonly namespace: string) {}

  /** The file's shared connection, opened in beforeAll by `useTestConnections`. */
  get zk(): ZookeeperConnection {
    if (!this.shared) throw new Error('the shared connection opens in beforeAll');
    return this.shared;
  }

  async open(options: Partial<ZookeeperOptions> = {}): Promise<ZookeeperConnection> {
    const connection = new ZookeeperConnection({
      connectString: testConnectString(),
      namespace: this.namespace,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 10_000,
      logger: silentLogger,
      ...options,
    });
    this.opened.push(connection);
    await connection.connect();
    return connection;
  }

  /** Opens `zk`. */
  async openShared(): Promise<ZookeeperConnection> {
    this.shared = await this.open();
    return this.shared;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.opened.map((connection) => connection.close()));
  }
}

/**
 * The setup of a test file against the shared server: a namespace of its own
 * (`testNamespace(label)`), a shared connection `zk` opened in beforeAll, and every connection
 * opened through the returned object closed in afterAll. Call it at the top of the file, before
 * any hook that uses `zk`.
 */
export function useTestConnections(label: string): TestConnections {
  const connections = new TestConnections(testNamespace(label));
  beforeAll(() => connections.openShared());
  afterAll(() => connections.closeAll());
  return connections;
}

/** Keeps expected state-change warnings out of the test output. */
export const silentLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: (message: unknown) => console.error(message),
  debug: () => undefined,
  verbose: () => undefined,
};

/**
 * How long a test waits for a connection state. Below Jest's 60 s, so a state that never comes
 * (a restart slow enough to outlast a session: EXPIRED where RECONNECTED was awaited) fails with
 * the states seen instead of a bare test timeout.
 */
const STATE_TIMEOUT_MS = 45_000;

/** Resolves with the first state matching `state` emitted from now on. */
export function nextState(
  connection: ZookeeperConnection,
  state: ConnectionState,
  timeoutMs = STATE_TIMEOUT_MS,
): Promise<ConnectionState> {
  const seen: ConnectionState[] = [];
  return firstValueFrom(
    connection.state$.pipe(
      tap((s) => seen.push(s)),
      filter((s) => s === state),
      timeout({
        first: timeoutMs,
        with: () => throwError(() => stateTimeout(state, seen, timeoutMs)),
      }),
    ),
  );
}

function stateTimeout(awaited: ConnectionState, seen: ConnectionState[], timeoutMs: number): Error {
  return new Error(
    `no ${awaited} within ${timeoutMs} ms; states seen meanwhile: ${seen.join(', ') || 'none'}`,
  );
}

/** Collects the states a connection goes through from now until `last` (inclusive). */
export function statesUntil(
  connection: ZookeeperConnection,
  last: ConnectionState,
  timeoutMs = STATE_TIMEOUT_MS,
): Promise<ConnectionState[]> {
  const seen: ConnectionState[] = [];
  return firstValueFrom(
    connection.state$.pipe(
      skip(1),
      tap((s) => seen.push(s)),
      takeWhile((state) => state !== last, true),
      toArray(),
      timeout({
        first: timeoutMs,
        with: () => throwError(() => stateTimeout(last, seen, timeoutMs)),
      }),
    ),
  );
}
