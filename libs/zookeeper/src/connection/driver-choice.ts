import { DRIVER_NAMES } from '../driver/load-driver.js';
import { DriverName } from '../driver/driver-session.interface.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { ZookeeperOptions } from './zookeeper-options.interface.js';

/** The driver used when neither the options nor ZOOKEEPER_DRIVER name one. */
export const DEFAULT_DRIVER: DriverName = 'wire';

/** The driver the options ask for (or the environment, or the default), checked against them. */
export function chooseDriver(options: ZookeeperOptions): DriverName {
  const fromEnvironment = process.env.ZOOKEEPER_DRIVER?.trim() || undefined;
  const name = options.driver ?? fromEnvironment ?? DEFAULT_DRIVER;
  if (!DRIVER_NAMES.includes(name as DriverName)) {
    const source = options.driver !== undefined ? "'driver'" : 'ZOOKEEPER_DRIVER';
    throw new InvalidOptionsError(
      `${source} must be one of ${DRIVER_NAMES.map((n) => `'${n}'`).join(', ')}, got '${name}'`,
    );
  }
  if (name === 'native') {
    for (const option of ['tls', 'maxFrameBytes'] as const) {
      if (options[option] !== undefined) {
        throw new InvalidOptionsError(
          `'${option}' needs the 'wire' driver; this connection uses 'native'`,
        );
      }
    }
  }
  if (
    options.maxFrameBytes !== undefined &&
    (!Number.isInteger(options.maxFrameBytes) || options.maxFrameBytes < 1024)
  ) {
    throw new InvalidOptionsError(
      `'maxFrameBytes' must be an integer of at least 1024, got ${String(options.maxFrameBytes)}`,
    );
  }
  return name as DriverName;
}
