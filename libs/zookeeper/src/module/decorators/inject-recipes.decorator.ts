import { Inject } from '@nestjs/common';
import { getRecipesToken } from '../zookeeper.tokens.js';

/** Injects the ZookeeperRecipes of the connection named `name` (the default connection when omitted). */
export const InjectRecipes = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getRecipesToken(name));
