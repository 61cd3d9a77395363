import { applyDecorators } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
  type ValidationArguments,
} from 'class-validator';
import { hostname } from 'node:os';
import type { ZookeeperModuleOptions } from 'nestjs-zookeeper';

const NAME_PATTERN = /^[A-Za-z0-9._:@-]{1,100}$/;
const CONNECT_REQUIRED = "ZK_CONNECT is required, e.g. ZK_CONNECT='127.0.0.1:2181'";

/**
 * An integer setting, unset or '' meaning `fallback`. Every check has the same message, so the
 * one problem reported (validation stops at a property's first error) reads the same whichever
 * check found it.
 */
function IntegerSetting(fallback: number, min: number, max: number): PropertyDecorator {
  const message = ({ property, value }: ValidationArguments) =>
    `${property} must be an integer from ${min} to ${max}, got '${String(value)}'`;
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      if (value === undefined || value === '') return fallback;
      const number = Number(value);
      // Not a number: kept as written, so the message shows what was given.
      return Number.isNaN(number) ? value : number;
    }),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

function trimmed(value: unknown): unknown {
  return typeof value === 'string' ? value.trim() : value;
}

function defaultInstanceName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._:@-]/g, '-')
      .slice(0, 100) || 'instance'
  );
}

/** The environment both demo apps read: the schema, with its defaults. */
export class DemoEnv {
  @IsNotEmpty({ message: CONNECT_REQUIRED })
  @IsString({ message: CONNECT_REQUIRED })
  @Transform(({ value }: { value: unknown }) => trimmed(value))
  ZK_CONNECT!: string;

  @IntegerSetting(10_000, 1, 3_600_000)
  ZK_SESSION_TIMEOUT_MS = 10_000;

  @IsString({ message: 'ZK_NAMESPACE must be a string' })
  ZK_NAMESPACE = 'nestjs-zookeeper-demo';

  @IntegerSetting(0, 0, 65_535)
  PORT = 0;

  /** Interface to listen on: loopback by default (no auth); 0.0.0.0 inside a container. */
  @Transform(({ value }: { value: unknown }) => (trimmed(value) as string) || '127.0.0.1')
  HOST = '127.0.0.1';

  /**
   * This instance's name: the consumer's durable subscriber id (its committed offset is stored
   * under it, so a restart with the same name resumes) and the producer's election id. Defaults to
   * the host name, which is stable across restarts of one container.
   */
  @Matches(NAME_PATTERN, {
    message: ({ value }: ValidationArguments) =>
      `INSTANCE_NAME must be 1-100 characters of A-Z a-z 0-9 . _ : @ - (it names a znode), got '${String(value)}'`,
  })
  @Transform(({ value }: { value: unknown }) => (trimmed(value) as string) || defaultInstanceName())
  INSTANCE_NAME = defaultInstanceName();

  /** Producer only: messages per second its generator publishes (0 = off; `--rate N` sets it). */
  @IntegerSetting(0, 0, 10_000)
  GENERATOR_RATE = 0;
}

/**
 * `validate` hook of ConfigModule: fails the bootstrap with every problem at once, so a
 * misconfigured app stops before it opens a ZooKeeper session instead of misbehaving later.
 * Returns the whole environment, the demo's settings converted and defaulted.
 */
export function validateDemoEnv(raw: Record<string, unknown>): DemoEnv & Record<string, unknown> {
  const env = plainToInstance(DemoEnv, { ...raw });
  // One problem per setting: an unset ZK_CONNECT is "required", not also "not a string".
  const errors = validateSync(env, { stopAtFirstError: true });
  const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
  if (problems.length > 0) {
    throw new Error(`invalid environment:\n  - ${problems.join('\n  - ')}`);
  }
  return env as DemoEnv & Record<string, unknown>;
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
