export {
  PersistentEphemeralNode,
  type PersistentEphemeralNodeOptions,
} from './persistent-ephemeral-node.js';
