import { describe, expect, it } from '@jest/globals';
import { createZookeeperError } from './create-zookeeper-error.js';
import { UnexpectedZookeeperError, SessionExpiredError } from './zookeeper-errors.js';
import { isConnectionProblem } from './zookeeper.error.js';

describe('createZookeeperError', () => {
  it("reports the server's UNKNOWNSESSION (-12) as a session expiry, which watches and retries handle", () => {
    const error = createZookeeperError(-12, 'unknown error', {
      operation: 'getChildren',
      path: '/a',
    });
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(isConnectionProblem(error)).toBe(true);
    expect(error.message).toContain("getChildren '/a'");
  });

  it('keeps a code it does not know as an UnexpectedZookeeperError with the code and the message', () => {
    const error = createZookeeperError(-99, 'strange', { operation: 'get' });
    expect(error).toBeInstanceOf(UnexpectedZookeeperError);
    expect(error.code).toBe(-99);
    expect(error.message).toContain('ZooKeeper error -99 (strange)');
  });
});
