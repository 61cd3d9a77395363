import { Inject } from '@nestjs/common';
import { getZookeeperToken } from '../zookeeper.tokens.js';

/** Injects the ZookeeperConnection named `name` (the default connection when omitted). */
export const InjectZookeeper = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getZookeeperToken(name));
