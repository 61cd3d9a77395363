import { describe, expect, it } from '@jest/globals';
import { allPassed, checkRun } from '../../scripts/chaos/checker.js';
import type {
  Append,
  ChaosObservations,
  Delivery,
  Leftovers,
} from '../../scripts/chaos/observations.js';

const CLEAN_END: Leftovers = {
  inbox: { items: 0, locks: 0, progress: 0, dead: 0 },
  jobs: { items: 0, locks: 0, progress: 0, dead: 0 },
  logLastOffset: 300_001,
  committed: { a: 300_001, b: 300_001 },
  electionNodes: 2,
  producersRunning: 2,
};

/** Messages m-1..m-6 in 3 batches of 2 (sequences 1, 2, 3), by producer p-1 in term 10. */
const OFFSETS = [100_000, 100_001, 200_000, 200_001, 300_000, 300_001];
const deliveries = (pid: number, offsets = OFFSETS): Delivery[] =>
  offsets.map((offset) => ({
    pid,
    offset,
    id: `m-${OFFSETS.indexOf(offset) + 1}`,
    atMs: 1000 + offset / 1000,
  }));
const append = (sequence: number, term: number, producer = 'p-1'): Append => ({
  producer,
  pid: producer === 'p-1' ? 11 : 12,
  term,
  sequence,
  messages: 2,
  atMs: 1000 + sequence,
});

function cleanRun(): ChaosObservations {
  return {
    seed: 1,
    durationMs: 30_000,
    acknowledged: { messages: ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6'], jobs: ['j-1', 'j-2'] },
    ackTimesMs: [10, 20, 30, 40, 50, 60],
    unacknowledged: { messages: [], jobs: [] },
    consumers: { a: deliveries(1), b: deliveries(2) },
    jobRuns: [
      { id: 'j-1', consumer: 'a', pid: 1, atMs: 1010 },
      { id: 'j-2', consumer: 'b', pid: 2, atMs: 1020 },
    ],
    appends: [append(1, 10), append(2, 10), append(3, 10)],
    terms: [{ producer: 'p-1', pid: 11, term: 10, electedAtMs: 900 }],
    faults: [{ type: 'consumer-kill', target: 'a', atMs: 5, healedAfterMs: 100 }],
    loadStartedAtMs: 1000,
    leftovers: CLEAN_END,
  };
}

const failed = (run: ChaosObservations) =>
  Object.entries(checkRun(run).checks)
    .filter(([, check]) => check.result === 'fail')
    .map(([name]) => name);

describe('the chaos checker', () => {
  it('passes a clean run, counting redeliveries after a restart as duplicates, not violations', () => {
    const run = cleanRun();
    // consumer a was killed after m-4 and its new process resumed from its committed offset.
    run.consumers.a = [...deliveries(1, OFFSETS.slice(0, 4)), ...deliveries(3, OFFSETS.slice(2))];
    const verdict = checkRun(run);
    expect(failed(run)).toEqual([]);
    expect(allPassed(verdict)).toBe(true);
    expect(verdict).toMatchObject({
      acknowledged: { messages: 6, jobs: 2 },
      delivered: { a: 6, b: 6 },
      lost: 0,
      outOfOrder: 0,
      masterOverlaps: 0,
      duplicates: { total: 2, redeliveredAfterRestart: 2, fromRelay: 0 },
    });
  });

  it('finds a lost message', () => {
    const run = cleanRun();
    run.consumers.b = deliveries(2).filter((d) => d.id !== 'm-3');
    const verdict = checkRun(run);
    expect(verdict.lost).toBe(1);
    expect(verdict.lostByConsumer).toEqual({ a: 0, b: 1 });
    expect(failed(run)).toEqual([
      'every acknowledged message delivered to every consumer',
      'no consumer skipped an offset of the log',
    ]);
    expect(checkRun(run).checks['every acknowledged message delivered to every consumer']).toEqual({
      result: 'fail',
      reason: '1 lost: b: m-3',
    });
  });

  it('finds a consumer that saw the log out of order', () => {
    const run = cleanRun();
    const [first, second, third, ...rest] = deliveries(1);
    run.consumers.a = [first!, third!, second!, ...rest];
    expect(checkRun(run).outOfOrder).toBe(1);
    expect(failed(run)).toEqual(['each consumer saw the log in order']);
  });

  it('finds two masters appending in overlapping terms', () => {
    const run = cleanRun();
    // p-2 took over (term 20) and appended batch 2; the deposed p-1 (term 10) appended batch 3.
    run.appends = [append(1, 10), append(2, 20, 'p-2'), append(3, 10)];
    run.terms.push({ producer: 'p-2', pid: 12, term: 20, electedAtMs: 1001 });
    expect(checkRun(run).masterOverlaps).toBe(1);
    expect(failed(run)).toEqual(['one master at a time (fencing tokens only grow along the log)']);
  });

  it('tells a message appended twice (relay) from a redelivery', () => {
    const run = cleanRun();
    // m-2 is in the log a second time, at offset 300_002 (one duplicate, both consumers got it).
    for (const name of ['a', 'b'])
      run.consumers[name]!.push({
        pid: name === 'a' ? 1 : 2,
        offset: 300_002,
        id: 'm-2',
        atMs: 2000,
      });
    run.leftovers = { ...CLEAN_END, logLastOffset: 300_002, committed: { a: 300_002, b: 300_002 } };
    expect(checkRun(run).duplicates.fromRelay).toBe(1);
    expect(failed(run)).toEqual(['duplicates only from redelivery, none from the relay']);
  });

  it('finds a job never done and leftovers in ZooKeeper', () => {
    const run = cleanRun();
    run.jobRuns = run.jobRuns.slice(0, 1);
    run.leftovers = {
      ...CLEAN_END,
      jobs: { items: 1, locks: 1, progress: 0, dead: 0 },
      committed: { a: 300_001, b: 200_001 },
    };
    const verdict = checkRun(run);
    expect(verdict.jobs).toEqual({ acknowledged: 2, done: 1, lost: 1 });
    expect(
      verdict.checks['queues and log left clean (no stuck item, no orphan lock, all committed)'],
    ).toEqual({
      result: 'fail',
      reason: 'jobs: 1 items; jobs: 1 locks; b committed 200001, log ends at 300001',
    });
    expect(failed(run)).toEqual([
      'every acknowledged job done at least once',
      'queues and log left clean (no stuck item, no orphan lock, all committed)',
    ]);
  });

  it('does not count a POST that was not acknowledged as lost, but as delivered anyway', () => {
    const run = cleanRun();
    run.acknowledged.messages = run.acknowledged.messages.filter((id) => id !== 'm-6');
    run.unacknowledged.messages = ['m-6', 'm-7'];
    const verdict = checkRun(run);
    expect(verdict.lost).toBe(0);
    expect(verdict.unacknowledgedDelivered).toEqual({ messages: 1, jobs: 0 });
    expect(allPassed(verdict)).toBe(true);
  });
});
