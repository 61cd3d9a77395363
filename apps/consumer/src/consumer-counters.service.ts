import { Injectable } from '@nestjs/common';

/**
 * What this consumer process has handled since it started: the transport handlers count, the
 * HTTP status page and the `consumer-stats` answer read.
 */
@Injectable()
export class ConsumerCounters {
  private receivedCount = 0;
  private lastOffset?: number;
  private jobsDoneCount = 0;
  private jobsRunning = 0;

  /** Broadcast messages received by this process, and the offset of the last one. */
  get received(): { count: number; lastOffset: number | null } {
    return { count: this.receivedCount, lastOffset: this.lastOffset ?? null };
  }

  /** Jobs this process did. */
  get jobsDone(): number {
    return this.jobsDoneCount;
  }

  messageReceived(offset: number | undefined): void {
    this.receivedCount++;
    if (offset !== undefined) this.lastOffset = offset;
  }

  /** A job starts: returns the jobs running now, this one included. */
  jobStarted(): number {
    return ++this.jobsRunning;
  }

  jobEnded(): void {
    this.jobsRunning--;
  }

  jobDone(): void {
    this.jobsDoneCount++;
  }
}
