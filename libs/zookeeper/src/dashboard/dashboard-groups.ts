import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { whenNoNode } from '../internal/no-node.js';
import { bySequence, DashboardNodes, inBatches } from './dashboard-reads.js';
import { GroupView, MemberView, RegistryView } from './dashboard-snapshot.js';

/** Samples group memberships and service registries (their members' data re-read on `refresh`). */
export class GroupSampler {
  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly nodes: DashboardNodes,
    private readonly listLimit: number,
  ) {}

  async group(path: string, refresh: boolean): Promise<GroupView> {
    const stat = await this.connection.exists(path);
    const members = await this.members(path, refresh);
    return { path, count: members?.length ?? stat?.numChildren ?? 0, members };
  }

  async registry(basePath: string, refresh: boolean): Promise<RegistryView> {
    const names = (await this.connection.getChildren(basePath).catch(whenNoNode<string[]>([])))
      .sort()
      .slice(0, this.listLimit);
    const services = await Promise.all(
      names.map(async (name) => ({
        name,
        instances: (await this.members(joinPath(basePath, name), refresh)) ?? [],
      })),
    );
    return { basePath, services };
  }

  private async members(path: string, refresh: boolean): Promise<MemberView[] | undefined> {
    const stat = await this.connection.exists(path);
    if (!stat || stat.numChildren > this.listLimit) return undefined;
    const names = (await this.connection.getChildren(path).catch(whenNoNode<string[]>([]))).sort(
      bySequence,
    );
    this.nodes.forgetUnder(path, names);
    const members = await inBatches(names, async (name) => {
      const info = await this.nodes.read(joinPath(path, name), refresh);
      return info && { node: name, data: info.data, since: info.since };
    });
    return members.filter((member): member is MemberView => member !== undefined);
  }
}
