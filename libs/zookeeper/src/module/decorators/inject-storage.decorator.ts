import { Inject } from '@nestjs/common';
import { getStorageToken } from '../zookeeper.tokens.js';

/** Injects the ZookeeperStorage of the connection named `name` (the default connection when omitted). */
export const InjectStorage = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getStorageToken(name));
