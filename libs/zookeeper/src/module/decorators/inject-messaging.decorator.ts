import { Inject } from '@nestjs/common';
import { getMessagingToken } from '../zookeeper.tokens.js';

/** Injects the ZookeeperMessaging of the connection named `name` (the default connection when omitted). */
export const InjectMessaging = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getMessagingToken(name));
