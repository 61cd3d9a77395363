import {
  DriverSession,
  DriverSessionConfig,
  DriverSessionListener,
  ZookeeperDriver,
} from '../driver-session.interface.js';
import { WireSession } from './wire-session.js';

/** The pure-TypeScript driver: ZooKeeper's client protocol over node:net / node:tls. */
export const wireDriver: ZookeeperDriver = {
  name: 'wire',
  capabilities: { multi: true, createWithAcl: true, persistentWatches: true, tls: true },
  createSession(config: DriverSessionConfig, listener: DriverSessionListener): DriverSession {
    return new WireSession(config, listener);
  },
};
