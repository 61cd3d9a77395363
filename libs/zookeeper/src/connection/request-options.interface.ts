import { CreateMode } from './create-mode.enum.js';
import { Acl, Watcher } from './zookeeper-types.js';

export interface CreateOptions {
  mode?: CreateMode;
  /** Required with the TTL modes: the node is removed when unchanged and childless this long. */
  ttlMs?: number;
  /**
   * ACL of the new node: in the create request itself on a driver with `createWithAcl` (wire);
   * on 'native', set right after the create (the node is open in between).
   */
  acl?: readonly Acl[];
  /** Create missing parents as persistent nodes. */
  createParents?: boolean;
  /**
   * Prefix the name with `_c_<uuid>-` (Curator's protected mode) so a create whose reply was lost
   * can be found instead of repeated, as long as its node is still there: one that another client
   * deleted before the retry looked is created again. Default: true for sequential modes, false
   * otherwise.
   */
  protected?: boolean;
  /**
   * The uuid of a protected create's `_c_<uuid>-` prefix (default: a new one). A caller that makes
   * one logical create again elsewhere (a batch refused by a sealed segment goes to the next one)
   * keeps its id, so whoever matches creates by id sees one create.
   */
  createId?: string;
}

export interface WatchOptions {
  /** One-shot watch: called once with the next event on this path, or with SESSION_LOST. */
  watch?: Watcher;
}

export interface VersionOptions {
  /** Expected version for compare-and-set; -1 (default) matches any version. */
  version?: number;
}

export interface DeleteOptions extends VersionOptions {
  /** Delete the children first (not atomic: a concurrent writer can add children meanwhile). */
  recursive?: boolean;
}
