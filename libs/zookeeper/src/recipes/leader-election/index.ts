export {
  LEADER_NODE_MARKER,
  LeaderElection,
  type ElectionParticipant,
  type LeaderElectionOptions,
} from './leader-election.js';
export type { LeaderInfo } from './leader-tracker.js';
export { NotLeaderError, type FencingToken } from './leadership-fence.js';
