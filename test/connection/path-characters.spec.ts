import { afterAll, describe, expect, it } from '@jest/globals';
import {
  forbiddenCharacter,
  InvalidKeyError,
  InvalidPathError,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { DriverFailure } from '../../libs/zookeeper/src/driver/driver-failure.js';
import { WireSessions } from '../driver/wire/wire-helpers.js';
import { testConnectString, useTestConnections } from '../support/connect.js';

// Runs on the driver of the run: `ZOOKEEPER_DRIVER=native` for the native one.
const connections = useTestConnections('path-characters');
const raw = new WireSessions();
afterAll(() => raw.closeAll());

const BAD_ARGUMENTS = -8;

/**
 * The last allowed and first refused character of each range ZooKeeper's PathUtils.validatePath
 * refuses (on UTF-16 code units: \u0000-\u001f, \u007f-\u009f, \ud800-\uf8ff, \ufff0-\uffff), and
 * characters outside the Basic Multilingual Plane (surrogate pairs).
 */
const SAMPLES = [
  '\u0001',
  '\u001f',
  ' ',
  '\u007e',
  '\u007f',
  '\u009f',
  '\u00a0',
  '\ud7ff',
  '\ue000',
  '\uf8ff',
  '\uf900',
  '\uffef',
  '\ufff0',
  '\ufffd',
  '🎉',
  '\u{10000}',
  '\u{10ffff}',
];

describe('characters in paths', () => {
  it('refuses exactly what the server refuses (asked with validation bypassed)', async () => {
    const { session, events } = raw.create({ connectString: testConnectString() });
    await events.reached('connected');
    const verdicts: Array<[string, boolean, boolean]> = [];
    for (const [index, character] of SAMPLES.entries()) {
      const path = connections.zk.toServerPath(`/raw-${index}-${character}`);
      const refusedByServer = await session.create(path, Buffer.alloc(0), 0).then(
        () => false,
        (failure: DriverFailure) => {
          if (failure.rc !== BAD_ARGUMENTS) throw new Error(`unexpected rc ${failure.rc}`);
          return true;
        },
      );
      const refusedByLibrary = forbiddenCharacter(character) !== undefined;
      verdicts.push([character, refusedByServer, refusedByLibrary]);
    }
    // Each sample's two verdicts agree, and both kinds occur.
    expect(verdicts.filter(([, server, library]) => server !== library)).toEqual([]);
    expect(verdicts.some(([, server]) => server)).toBe(true);
    expect(verdicts.some(([, server]) => !server)).toBe(true);
  });

  it.each(['create', 'set', 'get', 'exists', 'delete', 'getChildren'] as const)(
    '%s of a path with an emoji fails with InvalidPathError, not BadArguments or NoNode',
    async (operation) => {
      const { zk } = connections;
      const path = '/party-🎉';
      const call = (): Promise<unknown> => {
        switch (operation) {
          case 'create':
            return zk.create(path, 'x');
          case 'set':
            return zk.set(path, 'x');
          default:
            return zk[operation](path);
        }
      };
      const error = await Promise.resolve()
        .then(call)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPathError);
      expect((error as InvalidPathError).reason).toContain(
        'U+1f389 is outside the Basic Multilingual Plane',
      );
    },
  );

  it('storage keys with an emoji fail with InvalidKeyError on set and get', async () => {
    const storage = new ZookeeperStorage(connections.zk);
    await expect(storage.set('party/🎉', 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.get('party/🎉')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.set('party/🎉', 1)).rejects.toThrow(/U\+1f389/);
    storage.close();
  });
});
