import { describe, expect, it } from '@jest/globals';
import { hostname } from 'node:os';
import { ConfigService } from '@nestjs/config';
import { CREATOR_ALL_ACL } from 'nestjs-zookeeper';
import {
  DemoEnv,
  validateDemoEnv,
  zookeeperOptionsFromConfig,
} from '../../apps/shared/src/demo-config.js';

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

  it('is the DemoEnv schema: values converted, blank ones defaulted, the rest of the environment kept', () => {
    const env = validateDemoEnv({
      ZK_CONNECT: 'zk:2181',
      ZK_SESSION_TIMEOUT_MS: '4000',
      PORT: '',
      HOST: '  ',
      INSTANCE_NAME: ' consumer-a ',
      GENERATOR_RATE: '25',
      PATH: '/usr/bin',
    });
    expect(env).toBeInstanceOf(DemoEnv);
    expect({ ...env }).toEqual({
      ZK_CONNECT: 'zk:2181',
      ZK_SESSION_TIMEOUT_MS: 4000,
      ZK_NAMESPACE: 'nestjs-zookeeper-demo',
      PORT: 0,
      HOST: '127.0.0.1',
      INSTANCE_NAME: 'consumer-a',
      GENERATOR_RATE: 25,
      PATH: '/usr/bin',
    });
  });

  it('protects what the apps create with ZK_DIGEST and ZK_ACL=creator (the chaos run --acl)', () => {
    const config = (env: Record<string, unknown>) => {
      const validated = validateDemoEnv({ ZK_CONNECT: 'zk:2181', ...env });
      const get = (key: string) => validated[key];
      return zookeeperOptionsFromConfig({ get } as unknown as ConfigService<DemoEnv, true>);
    };
    expect(config({})).not.toHaveProperty('auth');
    expect(config({})).not.toHaveProperty('defaultAcl');
    expect(config({ ZK_DIGEST: ' app:s3cret ', ZK_ACL: 'creator' })).toMatchObject({
      auth: [{ scheme: 'digest', credentials: 'app:s3cret' }],
      defaultAcl: CREATOR_ALL_ACL,
    });
    expect(config({ ZK_DIGEST: 'app:s3cret', ZK_ACL: 'open' })).not.toHaveProperty('defaultAcl');
    expect(() => validateDemoEnv({ ZK_CONNECT: 'zk', ZK_ACL: 'creator' })).toThrow(
      "ZK_ACL 'creator' needs ZK_DIGEST",
    );
    expect(() => validateDemoEnv({ ZK_CONNECT: 'zk', ZK_ACL: 'secret' })).toThrow(
      "ZK_ACL must be 'open' or 'creator', got 'secret'",
    );
    expect(() => validateDemoEnv({ ZK_CONNECT: 'zk', ZK_DIGEST: 'no-password' })).toThrow(
      "ZK_DIGEST must be 'user:password'",
    );
  });

  it('reports every problem at once, one line per setting', () => {
    let message = '';
    try {
      validateDemoEnv({
        ZK_CONNECT: '   ',
        ZK_SESSION_TIMEOUT_MS: 'soon',
        PORT: '70000',
        INSTANCE_NAME: 'a/b',
        GENERATOR_RATE: '1.5',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'invalid environment:',
      "  - ZK_CONNECT is required, e.g. ZK_CONNECT='127.0.0.1:2181'",
      "  - ZK_SESSION_TIMEOUT_MS must be an integer from 1 to 3600000, got 'soon'",
      "  - PORT must be an integer from 0 to 65535, got '70000'",
      "  - INSTANCE_NAME must be 1-100 characters of A-Z a-z 0-9 . _ : @ - (it names a znode), got 'a/b'",
      "  - GENERATOR_RATE must be an integer from 0 to 10000, got '1.5'",
    ]);
  });
});
