import { ConfigService } from '@nestjs/config';
import { hostname } from 'node:os';
import type { ZookeeperModuleOptions } from 'nestjs-zookeeper';

/** The environment both demo apps read, after validation and defaults. */
export interface DemoEnv {
  ZK_CONNECT: string;
  ZK_SESSION_TIMEOUT_MS: number;
  ZK_NAMESPACE: string;
  PORT: number;
  /** Interface to listen on: loopback by default (no auth); 0.0.0.0 inside a container. */
  HOST: string;
  /**
   * This instance's name: the consumer's durable subscriber id (its committed offset is stored
   * under it, so a restart with the same name resumes) and the producer's election id. Defaults to
   * the host name, which is stable across restarts of one container.
   */
  INSTANCE_NAME: string;
  /** Producer only: messages per second its generator publishes (0 = off; `--rate N` sets it). */
  GENERATOR_RATE: number;
}

const NAME_PATTERN = /^[A-Za-z0-9._:@-]{1,100}$/;

function integerSetting(
  raw: Record<string, unknown>,
  key: string,
  fallback: number,
  [min, max]: [number, number],
  problems: string[],
): number {
  const text = raw[key];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${key} must be an integer from ${min} to ${max}, got '${String(text)}'`);
  }
  return value;
}

function instanceName(raw: Record<string, unknown>, problems: string[]): string {
  const given = typeof raw.INSTANCE_NAME === 'string' ? raw.INSTANCE_NAME.trim() : '';
  if (!given)
    return (
      hostname()
        .replace(/[^A-Za-z0-9._:@-]/g, '-')
        .slice(0, 100) || 'instance'
    );
  if (!NAME_PATTERN.test(given)) {
    problems.push(
      `INSTANCE_NAME must be 1-100 characters of A-Z a-z 0-9 . _ : @ - (it names a znode), got '${given}'`,
    );
  }
  return given;
}

/**
 * `validate` hook of ConfigModule: fails the bootstrap with every problem at once, so a
 * misconfigured app stops before it opens a ZooKeeper session instead of misbehaving later.
 */
export function validateDemoEnv(raw: Record<string, unknown>): Record<string, unknown> & DemoEnv {
  const problems: string[] = [];
  const connect = typeof raw.ZK_CONNECT === 'string' ? raw.ZK_CONNECT.trim() : '';
  if (!connect) problems.push("ZK_CONNECT is required, e.g. ZK_CONNECT='127.0.0.1:2181'");
  const env: DemoEnv = {
    ZK_CONNECT: connect,
    ZK_SESSION_TIMEOUT_MS: integerSetting(
      raw,
      'ZK_SESSION_TIMEOUT_MS',
      10_000,
      [1, 3_600_000],
      problems,
    ),
    ZK_NAMESPACE: typeof raw.ZK_NAMESPACE === 'string' ? raw.ZK_NAMESPACE : 'nestjs-zookeeper-demo',
    PORT: integerSetting(raw, 'PORT', 0, [0, 65_535], problems),
    HOST: typeof raw.HOST === 'string' && raw.HOST.trim() ? raw.HOST.trim() : '127.0.0.1',
    INSTANCE_NAME: instanceName(raw, problems),
    GENERATOR_RATE: integerSetting(raw, 'GENERATOR_RATE', 0, [0, 10_000], problems),
  };
  if (problems.length > 0) {
    throw new Error(`invalid environment:\n  - ${problems.join('\n  - ')}`);
  }
  return { ...raw, ...env };
}

/** The README's `forRootAsync` factory, fed from the validated environment. */
export function zookeeperOptionsFromConfig(
  config: ConfigService<DemoEnv, true>,
): ZookeeperModuleOptions {
  return {
    connectString: config.get('ZK_CONNECT', { infer: true }),
    sessionTimeoutMs: config.get('ZK_SESSION_TIMEOUT_MS', { infer: true }),
    namespace: config.get('ZK_NAMESPACE', { infer: true }),
  };
}
