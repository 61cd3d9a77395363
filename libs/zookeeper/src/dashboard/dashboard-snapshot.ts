/** What one sample of the dashboard holds (the JSON of `api/snapshot` and of each SSE event). */
export interface DashboardSnapshot {
  at: number;
  title: string;
  readOnly: boolean;
  connection: ConnectionView;
  elections: ElectionView[];
  memberships: GroupView[];
  services: RegistryView[];
  queues: QueueView[];
  logs: LogView[];
  storageRoots: string[];
  /** The page may set and delete storage keys (`storageWrites` and not `readOnly`). */
  storageWrites: boolean;
  /** Errors of the last sample, by path. */
  errors: { path: string; message: string }[];
  /**
   * This sample's point of the charts, as `api/snapshot`'s history keeps it (set when the
   * service records the sample; the page adds it to its charts).
   */
  point?: HistoryPoint;
}

/** One point of the charts: per queue and per log, what a sample measured. */
export interface HistoryPoint {
  at: number;
  queues: Record<
    string,
    { items: number; messages?: number; inFlight: number; published: number; finished: number }
  >;
  logs: Record<string, { rate: number; lag: Record<string, number> }>;
}

export interface ConnectionView {
  name: string;
  state: string;
  driver: string;
  connectString: string;
  namespace: string;
  sessionId?: string;
  negotiatedTimeoutMs?: number;
  /** From `srvr` (fourLetterWords): one entry per server of the connect string. */
  ensemble?: { server: string; mode?: string; zxid?: string; error?: string }[];
  leader?: string;
}

export interface Candidate {
  node: string;
  participantId: string;
  since: number;
}

export interface Takeover {
  participantId: string;
  from: number;
  to: number;
  durationMs: number;
}

export interface ElectionView {
  path: string;
  leader?: Candidate;
  candidates: Candidate[];
  /** Earlier leaders seen while the dashboard ran, newest first. */
  history: Takeover[];
}

export interface MemberView {
  node: string;
  data: unknown;
  since: number;
}

export interface GroupView {
  path: string;
  count: number;
  /** Absent when the group has more than `listLimit` members. */
  members?: MemberView[];
}

export interface RegistryView {
  basePath: string;
  services: { name: string; instances: MemberView[] }[];
}

export interface QueueView {
  path: string;
  /** Items (batch znodes) waiting or in progress. */
  items: number;
  /** Messages in those items (absent above `listLimit` items). */
  messages?: number;
  inFlight: { item: string; session: string; since: number }[];
  deadLetters: number;
  /** Messages (items when not listed) published and finished per second since the last sample. */
  publishedPerSecond: number;
  finishedPerSecond: number;
}

export interface SubscriberView {
  id: string;
  committedOffset: number;
  /** Messages after the committed offset (absent when the log was not listed). */
  lag?: number;
}

export interface LogView {
  path: string;
  entries: number;
  messages?: number;
  firstOffset?: number;
  lastOffset?: number;
  messagesPerSecond: number;
  /** Live subscriptions (client nodes). */
  clients: number;
  subscribers: SubscriberView[];
}
