import { describe, expect, it } from '@jest/globals';
import { hostname } from 'node:os';
import { validateDemoEnv } from '../../apps/shared/src/demo-config.js';

describe('demo apps environment', () => {
  it('applies defaults to a minimal environment', () => {
    expect(validateDemoEnv({ ZK_CONNECT: ' 127.0.0.1:2181 ' })).toMatchObject({
      ZK_CONNECT: '127.0.0.1:2181',
      ZK_SESSION_TIMEOUT_MS: 10_000,
      ZK_NAMESPACE: 'nestjs-zookeeper-demo',
      PORT: 0,
      HOST: '127.0.0.1',
      INSTANCE_NAME: hostname()
        .replace(/[^A-Za-z0-9._:@-]/g, '-')
        .slice(0, 100),
      GENERATOR_RATE: 0,
    });
  });

  it('reports every problem at once', () => {
    expect(() =>
      validateDemoEnv({
        ZK_SESSION_TIMEOUT_MS: 'soon',
        PORT: '70000',
        INSTANCE_NAME: 'a/b',
        GENERATOR_RATE: '-1',
      }),
    ).toThrow(
      /ZK_CONNECT is required[\s\S]*ZK_SESSION_TIMEOUT_MS must be an integer[\s\S]*PORT must be an integer[\s\S]*INSTANCE_NAME must be[\s\S]*GENERATOR_RATE must be an integer/,
    );
  });
});
