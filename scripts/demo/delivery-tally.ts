/** What one consumer (by instance name, across its restarts) received from the broadcast log. */
export interface ConsumerTally {
  /** Deliveries, counting repeats. */
  deliveries: number;
  /** Distinct message ids. */
  ids: Set<string>;
  /** Deliveries of an offset this consumer had already received (resumed after a crash). */
  redelivered: number;
  /** Offsets lower than the previous one within one process: must stay 0. */
  outOfOrder: number;
  lastOffsetByPid: Map<number, number>;
  offsets: Set<number>;
}

export interface ConsumerSummary {
  name: string;
  delivered: number;
  lost: number;
  duplicates: number;
  redelivered: number;
  outOfOrder: number;
}

const RECEIVED = /\[Receiver\] offset (\d+): (\S+)/;
const JOB_DONE = /\[Jobs\] done (\S+)/;

/**
 * Counts deliveries from the consumers' log lines, which are written before each ack: a line that
 * reached the demo is a message the consumer really got, even if the process died right after.
 */
export class DeliveryTally {
  readonly consumers = new Map<string, ConsumerTally>();
  /** Times each job id was done, by any consumer. */
  readonly jobRuns = new Map<string, number>();

  /** Feeds one stdout line of consumer `name` (process `pid`); other lines are ignored. */
  record(name: string, pid: number, line: string): void {
    const received = RECEIVED.exec(line);
    if (received) return this.recordMessage(name, pid, Number(received[1]), received[2]);
    const job = JOB_DONE.exec(line);
    if (job) this.jobRuns.set(job[1], (this.jobRuns.get(job[1]) ?? 0) + 1);
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
      duplicates: tally.deliveries - tally.ids.size,
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

  private recordMessage(name: string, pid: number, offset: number, id: string): void {
    let tally = this.consumers.get(name);
    if (!tally) this.consumers.set(name, (tally = newTally()));
    tally.deliveries++;
    tally.ids.add(id);
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
    outOfOrder: 0,
    lastOffsetByPid: new Map(),
    offsets: new Set(),
  };
}
