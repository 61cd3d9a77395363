import { describe, expect, it } from '@jest/globals';
import { DeliveryTally } from '../../scripts/demo/delivery-tally.js';

const line = (offset: number, id: string) =>
  `[Nest] 1  - 11/25/2026, 3:00:00 AM     LOG [Receiver] offset ${offset}: ${id} (accepted by p-1)`;

const accepted = (offset: number, id: string, by: string, at: string) =>
  `LOG [Receiver] offset ${offset}: ${id} (accepted by ${by} at ${at})`;

describe('DeliveryTally (the demo summary)', () => {
  it('counts lost, duplicate, re-sent, redelivered and out-of-order deliveries per consumer', () => {
    const tally = new DeliveryTally();
    // First process of consumer-b: offsets 1..3, then killed; the restart resumes at 3 (redelivery).
    for (const [offset, id] of [
      [1, 'm1'],
      [2, 'm2'],
      [3, 'm3'],
    ] as const)
      tally.record('b', 10, line(offset, id));
    for (const [offset, id] of [
      [3, 'm3'],
      [4, 'm4'],
      [5, 'm4'],
    ] as const)
      tally.record('b', 11, line(offset, id));
    // consumer-c misses m2 and sees an offset go backwards within one process.
    for (const [offset, id] of [
      [1, 'm1'],
      [4, 'm4'],
      [3, 'm3'],
    ] as const)
      tally.record('c', 12, line(offset, id));
    tally.record('c', 12, 'LOG [Registration] registered');
    const sent = ['m1', 'm2', 'm3', 'm4'];
    expect(tally.summary('b', sent)).toEqual({
      name: 'b',
      delivered: 4,
      lost: 0,
      // m4 at offsets 4 and 5: in the log twice. m3 at offset 3 twice: the consumer's redelivery.
      duplicates: 1,
      resent: 0,
      redelivered: 1,
      outOfOrder: 0,
    });
    // A POST sent again after its answer was lost: two acceptances of m5, each in the log once.
    tally.record('b', 11, accepted(6, 'm5', 'p-1', 'T1'));
    tally.record('b', 11, accepted(7, 'm5', 'p-2', 'T2'));
    expect(tally.summary('b', sent)).toMatchObject({ duplicates: 1, resent: 1, outOfOrder: 0 });
    expect(tally.summary('c', sent)).toMatchObject({ delivered: 3, lost: 1, outOfOrder: 1 });
    expect(tally.summary('never-started', sent)).toMatchObject({ delivered: 0, lost: 4 });
  });

  it('counts jobs done by any consumer, repeated runs as duplicates', () => {
    const tally = new DeliveryTally();
    tally.record('a', 1, 'LOG [Jobs] done j1 (item#0, attempt 1)');
    tally.record('b', 2, 'LOG [Jobs] done j1 (item#0, attempt 2)');
    tally.record('b', 2, 'LOG [Jobs] done j2 (item#1, attempt 1)');
    expect(tally.jobsSummary(['j1', 'j2', 'j3'])).toEqual({ done: 2, lost: 1, duplicates: 1 });
  });
});
