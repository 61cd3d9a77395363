import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidOptionsError, ZookeeperConnection } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';

const connections = useTestConnections('driver-choice');
const environmentDriver = process.env.ZOOKEEPER_DRIVER;

afterEach(() => {
  if (environmentDriver === undefined) delete process.env.ZOOKEEPER_DRIVER;
  else process.env.ZOOKEEPER_DRIVER = environmentDriver;
});

const options = { connectString: '127.0.0.1:2181' };

describe('choosing the driver', () => {
  it('takes the option, else ZOOKEEPER_DRIVER, and says which', () => {
    expect(new ZookeeperConnection({ ...options, driver: 'native' }).driver).toBe('native');
    expect(new ZookeeperConnection({ ...options, driver: 'wire' }).driver).toBe('wire');
    process.env.ZOOKEEPER_DRIVER = 'native';
    expect(new ZookeeperConnection(options).driver).toBe('native');
    expect(new ZookeeperConnection({ ...options, driver: 'wire' }).driver).toBe('wire');
  });

  it('refuses an unknown driver, naming where it came from', () => {
    expect(() => new ZookeeperConnection({ ...options, driver: 'java' as never })).toThrow(
      /'driver' must be one of 'wire', 'native', got 'java'/,
    );
    process.env.ZOOKEEPER_DRIVER = 'c';
    expect(() => new ZookeeperConnection(options)).toThrow(
      /ZOOKEEPER_DRIVER must be one of 'wire', 'native', got 'c'/,
    );
  });

  it('refuses wire-only options on the native driver, and a tiny frame limit', () => {
    expect(() => new ZookeeperConnection({ ...options, driver: 'native', tls: {} })).toThrow(
      InvalidOptionsError,
    );
    expect(() => new ZookeeperConnection({ ...options, driver: 'native', tls: {} })).toThrow(
      /'tls' needs the 'wire' driver/,
    );
    expect(
      () => new ZookeeperConnection({ ...options, driver: 'wire', maxFrameBytes: 10 }),
    ).toThrow(/'maxFrameBytes' must be an integer of at least 1024, got 10/);
  });

  it("reports the connected driver's capabilities", async () => {
    const native = await connections.open({ driver: 'native' });
    expect(native.capabilities).toEqual({
      multi: false,
      createWithAcl: false,
      persistentWatches: false,
      tls: false,
    });
  });
});
