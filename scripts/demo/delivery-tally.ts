/** What one consumer (by instance name, across its restarts) received from the broadcast log. */
export interface ConsumerTally {
  /** Deliveries, counting repeats. */
  deliveries: number;
  /** Distinct message ids. */
  ids: Set<string>;
  /** Deliveries of an offset this consumer had already received (resumed after a crash). */
  redelivered: number;
  /**
   * The log offsets each acceptance (id, producer, time) was delivered at: more than one means
   * the log holds that one accepted message twice.
   */
  offsetsByAcceptance: Map<string, Set<number>>;
  /** The acceptances of each id: more than one means the POST was sent (and accepted) again. */
  acceptancesById: Map<string, Set<string>>;
  /** Offsets lower than the previous one within one process: must stay 0. */
  outOfOrder: number;
  lastOffsetByPid: Map<number, number>;
  offsets: Set<number>;
}

export interface ConsumerSummary {
  name: string;
  delivered: number;
  lost: number;
  /** Accepted messages delivered at more than one offset: appended twice to the log (relay). */
  duplicates: number;
  /** Ids accepted more than once: a POST sent again after its answer was lost (the sender). */
  resent: number;
  /** The same offset delivered again: the consumer's own at-least-once after its crash. */
  redelivered: number;
  outOfOrder: number;
}

const RECEIVED = /\[Receiver\] offset (\d+): (\S+)(?: \(accepted by (\S+) at (\S+)\))?/;
const JOB_DONE = /\[Jobs\] done (\S+)(?: .*, (\d+) concurrent\))?/;
const CONCURRENCY = /\[Jobs\] concurrency (\d+) -> (\d+)/;

/** One consumer's jobs.concurrency changes and the peak of its concurrent jobs around them. */
export interface JobConcurrency {
  /** `2 -> 3` for each change the consumer logged, in order. */
  changes: string[];
  /** The most jobs that ran at once before its first change, and since its last one. */
  peakBefore: number;
  peakAfter: number;
}

/**
 * Counts deliveries from the consumers' log lines, which are written before each ack: a line that
 * reached the demo is a message the consumer really got, even if the process died right after.
 */
export class DeliveryTally {
  readonly consumers = new Map<string, ConsumerTally>();
  /** Times each job id was done, by any consumer. */
  readonly jobRuns = new Map<string, number>();
  /** Per consumer: its concurrency changes and peak concurrent jobs (see JobConcurrency). */
  readonly jobConcurrency = new Map<string, JobConcurrency>();

  /** Feeds one stdout line of consumer `name` (process `pid`); other lines are ignored. */
  record(name: string, pid: number, line: string): void {
    const received = RECEIVED.exec(line);
    if (received) {
      const [, offset, id, by, at] = received;
      return this.recordMessage(name, pid, Number(offset), id, `${id} ${by} ${at}`);
    }
    const job = JOB_DONE.exec(line);
    if (job) {
      this.jobRuns.set(job[1], (this.jobRuns.get(job[1]) ?? 0) + 1);
      if (job[2] !== undefined) this.recordPeak(name, Number(job[2]));
      return;
    }
    const change = CONCURRENCY.exec(line);
    if (change) {
      const entry = this.concurrencyOf(name);
      entry.changes.push(`${change[1]} -> ${change[2]}`);
      entry.peakAfter = 0;
    }
  }

  private concurrencyOf(name: string): JobConcurrency {
    let entry = this.jobConcurrency.get(name);
    if (!entry)
      this.jobConcurrency.set(name, (entry = { changes: [], peakBefore: 0, peakAfter: 0 }));
    return entry;
  }

  private recordPeak(name: string, concurrent: number): void {
    const entry = this.concurrencyOf(name);
    if (entry.changes.length === 0) entry.peakBefore = Math.max(entry.peakBefore, concurrent);
    else entry.peakAfter = Math.max(entry.peakAfter, concurrent);
  }

  received(name: string): number {
    return this.consumers.get(name)?.ids.size ?? 0;
  }

  /** How many of `sent` ids `name` has received. */
  receivedOf(name: string, sent: Iterable<string>): number {
    const ids = this.consumers.get(name)?.ids;
    let count = 0;
    for (const id of sent) if (ids?.has(id)) count++;
    return count;
  }

  jobsDoneOf(sent: Iterable<string>): number {
    let count = 0;
    for (const id of sent) if (this.jobRuns.has(id)) count++;
    return count;
  }

  summary(name: string, sent: readonly string[]): ConsumerSummary {
    const tally = this.consumers.get(name) ?? newTally();
    const delivered = this.receivedOf(name, sent);
    return {
      name,
      delivered,
      lost: sent.length - delivered,
      duplicates: extra(tally.offsetsByAcceptance),
      resent: extra(tally.acceptancesById),
      redelivered: tally.redelivered,
      outOfOrder: tally.outOfOrder,
    };
  }

  jobsSummary(sent: readonly string[]): { done: number; lost: number; duplicates: number } {
    const done = this.jobsDoneOf(sent);
    let runs = 0;
    for (const count of this.jobRuns.values()) runs += count;
    return { done, lost: sent.length - done, duplicates: runs - this.jobRuns.size };
  }

  private recordMessage(
    name: string,
    pid: number,
    offset: number,
    id: string,
    acceptance: string,
  ): void {
    let tally = this.consumers.get(name);
    if (!tally) this.consumers.set(name, (tally = newTally()));
    tally.deliveries++;
    tally.ids.add(id);
    const offsets = tally.offsetsByAcceptance.get(acceptance) ?? new Set<number>();
    tally.offsetsByAcceptance.set(acceptance, offsets.add(offset));
    const acceptances = tally.acceptancesById.get(id) ?? new Set<string>();
    tally.acceptancesById.set(id, acceptances.add(acceptance));
    if (tally.offsets.has(offset)) tally.redelivered++;
    tally.offsets.add(offset);
    const previous = tally.lastOffsetByPid.get(pid);
    if (previous !== undefined && offset <= previous) tally.outOfOrder++;
    tally.lastOffsetByPid.set(pid, offset);
  }
}

function newTally(): ConsumerTally {
  return {
    deliveries: 0,
    ids: new Set(),
    redelivered: 0,
    offsetsByAcceptance: new Map(),
    acceptancesById: new Map(),
    outOfOrder: 0,
    lastOffsetByPid: new Map(),
    offsets: new Set(),
  };
}

/** How many entries beyond the first each set holds, in all. */
function extra<T>(sets: Map<string, Set<T>>): number {
  let count = 0;
  for (const set of sets.values()) count += set.size - 1;
  return count;
}
