import { LoggerService } from '@nestjs/common';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ZookeeperOptions } from '../connection/zookeeper-options.interface.js';

/** How a key's string is converted before validation. */
export type ConfigValueType = 'string' | 'number' | 'integer' | 'boolean' | 'json';

/** A Standard Schema (Zod, Valibot, ArkType...), as @nestjs/config's `validationSchema` takes. */
export interface StandardSchemaLike {
  readonly '~standard': {
    validate(value: unknown): StandardSchemaResult | Promise<StandardSchemaResult>;
  };
}

export type StandardSchemaResult =
  | { readonly value: unknown; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
      }>;
    };

export interface ZookeeperConfigOptions {
  /**
   * The ensemble to read from (a connection of the config's own, closed with it). Give either
   * this (with `connectionOptions`) or `connection`.
   */
  connectString?: string;
  /** Options of the config's own connection (namespace, auth, sessionTimeoutMs, driver, tls...). */
  connectionOptions?: Omit<ZookeeperOptions, 'connectString'>;
  /** A connection of the app's (e.g. ZookeeperModule's): used, never closed, by the config. */
  connection?: ZookeeperConnection;
  /** The znode holding every layer. Default `/config`. */
  root?: string;
  /** The application's name: its layers are `<root>/<application>[,<profile>]`. */
  application: string;
  /** Active profiles, least specific first (the last one wins). Default none. */
  profiles?: readonly string[];
  /** The context shared by every application (`<root>/application[,<profile>]`), or false. */
  sharedContext?: string | false;
  /** Between the name and the profile in a layer's znode name. Default `,`. */
  profileSeparator?: string;
  /** Conversions of the strings read, by dotted key (a key without one stays as read). */
  types?: Record<string, ConfigValueType>;
  /** A Standard Schema the merged configuration must pass (its output is used). */
  validationSchema?: StandardSchemaLike;
  /**
   * The same function @nestjs/config's `validate` takes: it gets the merged configuration (a
   * nested object) and returns the validated one, or throws with every problem in its message.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- @nestjs/config's signature
  validate?: (config: Record<string, any>) => Record<string, any>;
  /**
   * How long startup may take to connect and read every layer. Default 15000 ms. Past it the load
   * fails with ConfigUnavailableError, or starts from `snapshotFile` when it exists.
   */
  startupTimeoutMs?: number;
  /**
   * A JSON file written after every successful read (at startup and after each applied change);
   * when ZooKeeper is unreachable at startup the configuration starts from it, and the live tree
   * replaces it (every difference announced) once ZooKeeper answers.
   */
  snapshotFile?: string;
  /** Follow changes after startup. Default true. */
  live?: boolean;
  /** Where startup, refusals and fallbacks are logged. Default Nest `Logger('ZookeeperConfig')`. */
  logger?: LoggerService;
}
