import { validatePath } from '../connection/paths.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { ConfigLayer, configLayers } from './config-tree.js';
import { ZookeeperConfigOptions } from './zookeeper-config-options.interface.js';

const DEFAULT_STARTUP_TIMEOUT_MS = 15_000;

/** What ZookeeperConfig's options come to once checked. */
export interface CheckedConfigOptions {
  startupTimeoutMs: number;
  /** The layers to read, most specific first. */
  layers: ConfigLayer[];
}

/** Checks ZookeeperConfig's options (InvalidOptionsError when wrong) and names its layers. */
export function checkConfigOptions(options: ZookeeperConfigOptions): CheckedConfigOptions {
  const owner = 'zookeeperConfig';
  if (
    !options ||
    typeof options.application !== 'string' ||
    !/^[^/,]+$/.test(options.application)
  ) {
    throw new InvalidOptionsError(
      `${owner}: application must be a non-empty name without '/' or ',' (got ${JSON.stringify(options?.application)})`,
    );
  }
  if (!options.connection === !options.connectString) {
    throw new InvalidOptionsError(`${owner}: give either connectString or connection`);
  }
  const timeout = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 2 ** 31 - 1) {
    throw new InvalidOptionsError(
      `${owner}: startupTimeoutMs must be above 0 and at most 2147483647 (got ${timeout})`,
    );
  }
  const root = options.root ?? '/config';
  validatePath(root, owner);
  for (const profile of options.profiles ?? []) {
    if (!/^[^/]+$/.test(profile)) {
      throw new InvalidOptionsError(`${owner}: profile ${JSON.stringify(profile)} is not a name`);
    }
  }
  return {
    startupTimeoutMs: timeout,
    layers: configLayers(
      root,
      options.application,
      options.profiles ?? [],
      options.sharedContext ?? 'application',
      options.profileSeparator ?? ',',
    ),
  };
}
