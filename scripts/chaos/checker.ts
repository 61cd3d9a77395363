import type { ChaosObservations, FaultRecord, Leftovers } from './observations.js';

export type CheckResult = { result: 'pass' } | { result: 'fail'; reason: string };

/** Repeats of messages, by cause. Only `fromRelay` is a violation. */
export interface Duplicates {
  total: number;
  /** The same offset again in a new process of the consumer (it was killed before committing). */
  redeliveredAfterRestart: number;
  /** The same offset again in the same process (it re-registered after losing its session). */
  redeliveredAfterSessionLoss: number;
  /**
   * Of those, ones before the first fault: a session lost to load alone (reported, not a
   * violation: redelivery after a lost session is the log's documented at-least-once).
   */
  unexplained: number;
  /** One acknowledged message at two offsets of the log: appended twice. Must be 0 (fenced relay). */
  fromRelay: number;
  /** Jobs done more than once (the work queue is at-least-once across crashes). */
  jobRepeats: number;
}

export interface ChaosVerdict {
  acknowledged: { messages: number; jobs: number };
  /** Acknowledged messages each consumer received (at least once). */
  delivered: Record<string, number>;
  /** Acknowledged messages not received, summed over the consumers. */
  lost: number;
  lostByConsumer: Record<string, number>;
  /** Offsets some consumer received that this one never did. */
  skippedByConsumer: Record<string, number>;
  /** First deliveries of an offset below one the consumer had already received. */
  outOfOrder: number;
  duplicates: Duplicates;
  /** Log batches appended by a master whose term was older than that of an earlier batch. */
  masterOverlaps: number;
  /** Log batches of no logged append (a master killed between its append and its log line). */
  unattributedBatches: number;
  jobs: { acknowledged: number; done: number; lost: number };
  /** POSTs not acknowledged (failed, timed out) whose message reached the consumers anyway. */
  unacknowledgedDelivered: { messages: number; jobs: number };
  checks: Record<string, CheckResult>;
}

const BATCH = 100_000; // offset = sequence * 100000 + index (the library's messageOffset)

const pass: CheckResult = { result: 'pass' };
const fail = (reason: string): CheckResult => ({ result: 'fail', reason });
const check = (ok: boolean, reason: () => string): CheckResult => (ok ? pass : fail(reason()));

function examples(items: Iterable<string>, max = 5): string {
  const list = [...items];
  const shown = list.slice(0, max).join(', ');
  return list.length > max ? `${shown}, … (${list.length})` : shown;
}

/** Judges a run. Pure: the same observations give the same verdict. */
export function checkRun(run: ChaosObservations): ChaosVerdict {
  const ackedMessages = new Set(run.acknowledged.messages);
  const ackedJobs = new Set(run.acknowledged.jobs);
  const unackedMessages = new Set(run.unacknowledged.messages);
  const consumerNames = Object.keys(run.consumers).sort();
  const allOffsets = new Set<number>();
  for (const name of consumerNames) for (const d of run.consumers[name]) allOffsets.add(d.offset);

  const delivered: Record<string, number> = {};
  const lostByConsumer: Record<string, number> = {};
  const skippedByConsumer: Record<string, number> = {};
  const lostExamples: string[] = [];
  const orderExamples: string[] = [];
  const skipExamples: string[] = [];
  let outOfOrder = 0;
  const duplicates: Duplicates = {
    total: 0,
    redeliveredAfterRestart: 0,
    redeliveredAfterSessionLoss: 0,
    unexplained: 0,
    fromRelay: 0,
    jobRepeats: 0,
  };
  const offsetsById = new Map<string, Set<number>>();
  const unackedSeen = new Set<string>();
  const firstFaultAtMs = run.faults.length
    ? Math.min(...run.faults.map((fault) => fault.atMs)) + run.loadStartedAtMs
    : Infinity;

  for (const name of consumerNames) {
    const deliveries = run.consumers[name];
    const ids = new Set<string>();
    const pidOfOffset = new Map<number, number>();
    let maxOffset = -Infinity;
    for (const d of deliveries) {
      ids.add(d.id);
      if (unackedMessages.has(d.id)) unackedSeen.add(d.id);
      const offsets = offsetsById.get(d.id) ?? new Set<number>();
      offsetsById.set(d.id, offsets.add(d.offset));
      const earlierPid = pidOfOffset.get(d.offset);
      if (earlierPid !== undefined) {
        duplicates.total++;
        if (earlierPid !== d.pid) duplicates.redeliveredAfterRestart++;
        else {
          duplicates.redeliveredAfterSessionLoss++;
          // A process re-reads from its committed offset only after losing its session; with no
          // fault at all before it, nothing explains it.
          if (d.atMs < firstFaultAtMs) duplicates.unexplained++;
        }
      } else if (d.offset < maxOffset) {
        // A first delivery below an offset already delivered: the consumer saw the log out of
        // order (it had skipped this one). Going back to an offset already seen is a redelivery.
        outOfOrder++;
        if (orderExamples.length < 5)
          orderExamples.push(`${name} got ${d.offset} after ${maxOffset} (pid ${d.pid})`);
      }
      pidOfOffset.set(d.offset, d.pid);
      maxOffset = Math.max(maxOffset, d.offset);
    }
    let count = 0;
    for (const id of ackedMessages) if (ids.has(id)) count++;
    delivered[name] = count;
    lostByConsumer[name] = ackedMessages.size - count;
    if (lostByConsumer[name] > 0) {
      const missing = [...ackedMessages].filter((id) => !ids.has(id));
      lostExamples.push(`${name}: ${examples(missing, 3)}`);
    }
    let skipped = 0;
    for (const offset of allOffsets) {
      if (!pidOfOffset.has(offset)) {
        skipped++;
        if (skipExamples.length < 5) skipExamples.push(`${name} never got offset ${offset}`);
      }
    }
    skippedByConsumer[name] = skipped;
  }
  for (const offsets of offsetsById.values()) duplicates.fromRelay += offsets.size - 1;
  duplicates.total += duplicates.fromRelay;

  // Jobs: at least once each.
  const runsById = new Map<string, number>();
  for (const job of run.jobRuns) runsById.set(job.id, (runsById.get(job.id) ?? 0) + 1);
  let jobsDone = 0;
  for (const id of ackedJobs) if (runsById.has(id)) jobsDone++;
  for (const runs of runsById.values()) duplicates.jobRepeats += runs - 1;
  const unackedJobsDone = run.unacknowledged.jobs.filter((id) => runsById.has(id)).length;
  const lostJobs = [...ackedJobs].filter((id) => !runsById.has(id));

  // One master at a time: along the log (batch sequence order, the order ZooKeeper applied the
  // appends in), the fencing token may only grow. A batch with an older token than an earlier
  // batch was written by a deposed master after its successor had appended.
  const appends = [...run.appends].sort((a, b) => a.sequence - b.sequence);
  let masterOverlaps = 0;
  const overlapExamples: string[] = [];
  let highest: (typeof appends)[number] | undefined;
  for (const append of appends) {
    if (highest && append.term < highest.term) {
      masterOverlaps++;
      if (overlapExamples.length < 3)
        overlapExamples.push(
          `batch ${append.sequence} by ${append.producer} (term ${append.term}) after batch ${highest.sequence} by ${highest.producer} (term ${highest.term})`,
        );
    }
    if (!highest || append.term > highest.term) highest = append;
  }
  // A term belongs to one process: two processes with the same token would be two masters.
  const termOwners = new Map<number, Set<string>>();
  for (const term of run.terms) {
    const owners = termOwners.get(term.term) ?? new Set<string>();
    termOwners.set(term.term, owners.add(`${term.producer}/${term.pid}`));
  }
  for (const append of run.appends) {
    const owners = termOwners.get(append.term) ?? new Set<string>();
    termOwners.set(append.term, owners.add(`${append.producer}/${append.pid}`));
  }
  const sharedTerms = [...termOwners].filter(([, owners]) => owners.size > 1);
  masterOverlaps += sharedTerms.length;
  for (const [term, owners] of sharedTerms.slice(0, 3))
    overlapExamples.push(`term ${term} held by ${[...owners].join(' and ')}`);
  const appendedSequences = new Set(run.appends.map((append) => append.sequence));
  const seenSequences = new Set([...allOffsets].map((offset) => Math.floor(offset / BATCH)));
  let unattributedBatches = 0;
  for (const sequence of seenSequences) if (!appendedSequences.has(sequence)) unattributedBatches++;

  const lost = Object.values(lostByConsumer).reduce((sum, n) => sum + n, 0);
  const skippedTotal = Object.values(skippedByConsumer).reduce((sum, n) => sum + n, 0);
  const failedFaults = run.faults.filter((fault) => fault.failed);
  const checks: Record<string, CheckResult> = {
    'every acknowledged message delivered to every consumer': check(
      lost === 0,
      () => `${lost} lost: ${lostExamples.join('; ')}`,
    ),
    'each consumer saw the log in order': check(
      outOfOrder === 0,
      () => `${outOfOrder} out of order: ${orderExamples.join('; ')}`,
    ),
    'no consumer skipped an offset of the log': check(
      skippedTotal === 0,
      () => `${skippedTotal} skipped: ${skipExamples.join('; ')}`,
    ),
    'every acknowledged job done at least once': check(
      lostJobs.length === 0,
      () => `${lostJobs.length} never done: ${examples(lostJobs)}`,
    ),
    'one master at a time (fencing tokens only grow along the log)': check(
      masterOverlaps === 0,
      () => `${masterOverlaps} overlaps: ${overlapExamples.join('; ')}`,
    ),
    'duplicates only from redelivery, none from the relay': check(
      duplicates.fromRelay === 0,
      () => `${duplicates.fromRelay} messages appended to the log twice`,
    ),
    'queues and log left clean (no stuck item, no orphan lock, all committed)': leftoversCheck(
      run.leftovers,
      consumerNames,
    ),
    'every fault healed': check(failedFaults.length === 0, () =>
      failedFaults.map((fault: FaultRecord) => `${fault.type} ${fault.note}`).join('; '),
    ),
  };

  return {
    acknowledged: { messages: ackedMessages.size, jobs: ackedJobs.size },
    delivered,
    lost,
    lostByConsumer,
    skippedByConsumer,
    outOfOrder,
    duplicates,
    masterOverlaps,
    unattributedBatches,
    jobs: { acknowledged: ackedJobs.size, done: jobsDone, lost: lostJobs.length },
    unacknowledgedDelivered: { messages: unackedSeen.size, jobs: unackedJobsDone },
    checks,
  };
}

function leftoversCheck(leftovers: Leftovers | undefined, consumers: string[]): CheckResult {
  if (!leftovers) return fail('the end state could not be read from ZooKeeper');
  const problems: string[] = [];
  for (const [queue, left] of [
    ['inbox', leftovers.inbox],
    ['jobs', leftovers.jobs],
  ] as const) {
    for (const [what, count] of Object.entries(left))
      if (count > 0) problems.push(`${queue}: ${count} ${what}`);
  }
  if (leftovers.logLastOffset !== undefined) {
    for (const name of consumers) {
      const committed = leftovers.committed[name];
      if (committed !== leftovers.logLastOffset)
        problems.push(
          `${name} committed ${committed ?? 'nothing'}, log ends at ${leftovers.logLastOffset}`,
        );
    }
  }
  if (leftovers.electionNodes !== leftovers.producersRunning)
    problems.push(
      `${leftovers.electionNodes} election nodes for ${leftovers.producersRunning} producers`,
    );
  return problems.length === 0 ? pass : fail(problems.join('; '));
}

/** Whether every check passed. */
export function allPassed(verdict: ChaosVerdict): boolean {
  return Object.values(verdict.checks).every((check) => check.result === 'pass');
}
