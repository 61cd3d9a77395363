/**
 * What `changes$` announces:
 * - `changed`: a key's value in effect changed (`newValue` undefined when the key was removed);
 *   `layer` is the layer it now comes from, `previousLayer` the one it came from.
 * - `rejected`: a change read from ZooKeeper failed the types, schema or `validate`; the previous
 *   value stays in effect. `key` is the layer's path when its document does not parse.
 */
export type ZookeeperConfigEvent =
  | {
      readonly type: 'changed';
      readonly key: string;
      readonly oldValue: unknown;
      readonly newValue: unknown;
      readonly layer?: string;
      readonly previousLayer?: string;
    }
  | {
      readonly type: 'rejected';
      readonly key: string;
      readonly value: unknown;
      readonly layer?: string;
      readonly problems: readonly string[];
    };

/** Where the configuration in effect was read from. */
export type ConfigSource = 'zookeeper' | 'snapshot';
