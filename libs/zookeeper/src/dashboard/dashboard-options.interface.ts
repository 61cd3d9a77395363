import { CanActivate, Type } from '@nestjs/common';

/** What the dashboard shows and how often it reads it. */
export interface ZookeeperDashboardOptions {
  /** Name of the ZookeeperModule connection to show (default connection when omitted). */
  connection?: string;
  /**
   * Serves the dashboard. Default: on, except when NODE_ENV is 'production' (then every route
   * answers 404 and nothing is read from ZooKeeper).
   */
  enabled?: boolean;
  /**
   * Refuses the write actions (dead-letter replay and delete, storage writes) with 403.
   * Default false.
   */
  readOnly?: boolean;
  /** Title shown on the page. Default 'ZooKeeper'. */
  title?: string;
  /** How often ZooKeeper is read while a page (or an SSE client) is open. Default 1000 ms. */
  sampleIntervalMs?: number;
  /** Samples kept for the charts and sent to a page when it opens. Default 300. */
  historySize?: number;
  /**
   * Folders with more children than this are not listed on every sample: their sizes come from
   * `stat.numChildren` only (logs are listed every 10th sample then). Default 1000.
   */
  listLimit?: number;
  /** Election paths (LeaderElection / Curator LeaderLatch). */
  elections?: string[];
  /** Membership groups (`recipes.membership().join(group, data)`). */
  memberships?: string[];
  /** Base paths of service registries (`recipes.serviceRegistry({ basePath })`). */
  serviceRegistries?: string[];
  /** Work queue paths. */
  queues?: string[];
  /** Broadcast log (topic) paths. */
  logs?: string[];
  /** Storage roots whose key tree can be browsed (read only unless `storageWrites`). */
  storageRoots?: string[];
  /**
   * Lets the page set a key's value (JSON) and delete a key under `storageRoots`, through a
   * ZookeeperStorage of the root (refused with 403 when off or when `readOnly`). Default false.
   */
  storageWrites?: boolean;
  /**
   * Roots searched (3 levels deep, folders up to `listLimit` children) for elections, groups,
   * queues and logs, every `discoveryIntervalMs`; what is found is shown next to the listed ones.
   */
  discoverUnder?: string[];
  /** How often `discoverUnder` is searched again. Default 30000 ms. */
  discoveryIntervalMs?: number;
  /**
   * Asks each server of the connect string `srvr` (a four-letter word, allowed by the server's
   * `4lw.commands.whitelist`) every 5 samples, to show the ensemble and its leader. Default false.
   */
  fourLetterWords?: boolean;
}

/** Given next to the options (also with `forRootAsync`): they shape the routes. */
export interface ZookeeperDashboardExtras {
  /** Where the dashboard is mounted, e.g. '/zk'. Default '/zookeeper'. */
  path?: string;
  /**
   * Guards (the app's own `CanActivate` classes) in front of every dashboard route, the write
   * actions (POST) included. Their dependencies must be resolvable from the dashboard module
   * (global providers, or none).
   */
  guards?: Type<CanActivate>[];
}
