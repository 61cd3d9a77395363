// A connect string the wire driver cannot read is refused with InvalidOptionsError, saying which
// entry is wrong and how to write it: by ZookeeperConnection's constructor (not by a driver left
// retrying it until connectTimeoutMs) and by expireSession's `connectString` option.
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionsError, ZookeeperConnection, ZookeeperError } from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { parseConnectString } from '../../../libs/zookeeper/src/driver/wire/host-list.js';
import { silentLogger } from '../../support/connect.js';

/** Each passes the host:port check of every entry, but cannot be read. */
const unreadable: Array<[string, RegExp]> = [
  [':2181', /bad server entry ':2181' \(it has no host name before the port\)/],
  ['[]:2181', /bad server entry '\[\]:2181' \(it has no host name/],
  ['[::1:2181', /bad server entry '\[::1:2181' \(its '\[' is not closed\).*'\[::1\]:2181'/],
  ['[::1]x:2181', /bad server entry '\[::1\]x:2181' \(only ':port' may follow '\]'\)/],
  ['zk1:2181/app//sub', /chroot with an empty segment \('\/\/'\): write it as '\/app'/],
];

describe('connect strings', () => {
  it('the wire parser refuses a bad entry or chroot with InvalidOptionsError saying what to write', () => {
    for (const [connectString, message] of unreadable) {
      const error = catchError(() => parseConnectString(connectString));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toMatch(message);
    }
    for (const connectString of ['/only-chroot', ' , ']) {
      const error = catchError(() => parseConnectString(connectString));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toMatch(/names no server: expected host:port/);
    }
    const error = catchError(() => parseConnectString('a:0'));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toMatch(/'a:0' \(its port is not a number from 1 to 65535\)/);
  });

  it('ZookeeperConnection refuses them in its constructor', () => {
    for (const [connectString, message] of unreadable) {
      const error = catchError(() => new ZookeeperConnection({ connectString }));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error).toBeInstanceOf(ZookeeperError);
      expect((error as Error).message).toMatch(message);
    }
    expect(
      () => new ZookeeperConnection({ connectString: '[::1]:2181,zk2:2181/app/' }),
    ).not.toThrow();
  });

  it('expireSession refuses one given as its connectString option', async () => {
    const connection = new ZookeeperConnection({
      connectString: '127.0.0.1:2181',
      logger: silentLogger,
    });
    try {
      const refused = expireSession(connection, {
        connectString: 'zk1:2181/app//sub',
        timeoutMs: 1,
      });
      await expect(refused).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(refused).rejects.toThrow(/chroot with an empty segment/);
    } finally {
      await connection.close();
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
