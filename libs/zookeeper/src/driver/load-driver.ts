import { DriverName, ZookeeperDriver } from './driver-session.interface.js';
import { loadNativeDriver } from './native/native-driver.js';
import { wireDriver } from './wire/index.js';

export const DRIVER_NAMES: readonly DriverName[] = ['wire', 'native'];

/** The driver a connection runs on; the native one is imported only when asked for. */
export async function loadDriver(name: DriverName): Promise<ZookeeperDriver> {
  switch (name) {
    case 'native':
      return loadNativeDriver();
    case 'wire':
      return wireDriver;
  }
}
