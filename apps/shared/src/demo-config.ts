import { applyDecorators } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
  type ValidationArguments,
} from 'class-validator';
import { hostname } from 'node:os';
import { CREATOR_ALL_ACL, type ZookeeperModuleOptions } from 'nestjs-zookeeper';

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

  /**
   * Digest credentials `user:password` added to every session (`auth`). Every app of one
   * deployment needs the same user when ZK_ACL is `creator`: the nodes one creates are the others'.
   */
  @IsOptional()
  @Matches(/^[^:\s]+:\S+$/, {
    message: "ZK_DIGEST must be 'user:password' (digest credentials), got something else",
  })
  @Transform(({ value }: { value: unknown }) => (trimmed(value) as string) || undefined)
  ZK_DIGEST?: string;

  /**
   * `open` (default): nodes the apps create are open to anyone. `creator`: every node they create
   * (namespace included) gets CREATOR_ALL_ACL, i.e. only the ZK_DIGEST user may read or change it.
   */
  @IsOptional()
  @IsIn(['open', 'creator'], {
    message: ({ value }: ValidationArguments) =>
      `ZK_ACL must be 'open' or 'creator', got '${String(value)}'`,
  })
  @Transform(({ value }: { value: unknown }) => (trimmed(value) as string) || undefined)
  ZK_ACL?: 'open' | 'creator';
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
  if (env.ZK_ACL === 'creator' && !env.ZK_DIGEST) {
    problems.push("ZK_ACL 'creator' needs ZK_DIGEST (the identity the nodes are created for)");
  }
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
    ...protection(config.get('ZK_DIGEST', { infer: true }), config.get('ZK_ACL', { infer: true })),
  };
}

/** `auth` from ZK_DIGEST, and `defaultAcl` CREATOR_ALL_ACL when ZK_ACL is `creator`. */
function protection(
  digest: string | undefined,
  acl: DemoEnv['ZK_ACL'],
): Pick<ZookeeperModuleOptions, 'auth' | 'defaultAcl'> {
  return {
    ...(digest ? { auth: [{ scheme: 'digest', credentials: digest }] } : {}),
    ...(acl === 'creator' ? { defaultAcl: CREATOR_ALL_ACL } : {}),
  };
}
