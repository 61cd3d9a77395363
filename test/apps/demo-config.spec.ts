import { describe, expect, it } from '@jest/globals';
import { validateDemoEnv } from '../../apps/shared/src/demo-config.js';

describe('demo apps environment', () => {
  it('applies defaults to a minimal environment', () => {
    expect(validateDemoEnv({ ZK_CONNECT: ' 127.0.0.1:2181 ' })).toMatchObject({
      ZK_CONNECT: '127.0.0.1:2181',
      ZK_SESSION_TIMEOUT_MS: 10_000,
      ZK_NAMESPACE: 'nestjs-zookeeper-demo',
      PORT: 0,
      CLIENT_NAME: undefined,
    });
  });

  it('reports every problem at once', () => {
    expect(() => validateDemoEnv({ ZK_SESSION_TIMEOUT_MS: 'soon', PORT: '70000' })).toThrow(
      /ZK_CONNECT is required[\s\S]*ZK_SESSION_TIMEOUT_MS must be an integer[\s\S]*PORT must be an integer/,
    );
  });
});
