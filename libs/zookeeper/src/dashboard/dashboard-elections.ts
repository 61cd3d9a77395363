import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { whenNoNode } from '../internal/no-node.js';
import { bySequence, DashboardNodes, inBatches } from './dashboard-reads.js';
import { Candidate, ElectionView, Takeover } from './dashboard-snapshot.js';

const HISTORY_KEPT = 50;

/** Samples elections: their candidates in order, and each one's history of leaders. */
export class ElectionSampler {
  private readonly leaders = new Map<string, Candidate>();
  private readonly takeovers = new Map<string, Takeover[]>();

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly nodes: DashboardNodes,
  ) {}

  async sample(path: string): Promise<ElectionView> {
    const names = (await this.connection.getChildren(path).catch(whenNoNode<string[]>([])))
      .filter((name) => /latch-\d{10}$/.test(name))
      .sort(bySequence);
    this.nodes.forgetUnder(path, names);
    const candidates = (
      await inBatches(names, async (name) => {
        const info = await this.nodes.read(joinPath(path, name));
        if (!info) return undefined;
        const participantId =
          typeof info.data === 'string' ? info.data : JSON.stringify(info.data ?? '');
        return { node: name, participantId, since: info.since };
      })
    ).filter((candidate): candidate is Candidate => candidate !== undefined);
    const leader = candidates[0];
    const previous = this.leaders.get(path);
    if (previous && previous.node !== leader?.node) {
      const history = this.takeovers.get(path) ?? [];
      const to = Date.now();
      history.unshift({
        participantId: previous.participantId,
        from: previous.since,
        to,
        durationMs: to - previous.since,
      });
      this.takeovers.set(path, history.slice(0, HISTORY_KEPT));
    }
    if (leader) this.leaders.set(path, leader);
    else this.leaders.delete(path);
    return { path, leader, candidates, history: this.takeovers.get(path) ?? [] };
  }
}
