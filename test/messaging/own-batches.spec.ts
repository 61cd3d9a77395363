import { describe, expect, it } from '@jest/globals';
import { OwnBatches } from '../../libs/zookeeper/src/messaging/broadcast/own-batches.js';

// Pure logic: the relay's record of its own process's batches, no server involved.
const batch = (sequence: number) => ({
  path: `/inbox/items/m1-${String(sequence).padStart(10, '0')}`,
  segment: 0,
  data: Buffer.from('x'),
});

describe('OwnBatches', () => {
  it('once full, refuses every later batch until a listing that reached the last refused one was relayed whole', () => {
    const own = new OwnBatches();
    let sequence = 0;
    while (own.add(batch(sequence))) sequence++;
    const firstRefused = sequence;
    expect(own.size).toBe(4096);
    // Room again, but a later batch must not overtake the refused one: still refused.
    for (const entry of own.entries()) own.forget(entry.path);
    expect(own.add(batch(firstRefused + 1))).toBe(false);
    // A listing from before the last refused batch does not release it...
    own.listingRelayed(
      own
        .entries()
        .concat([{ ...batch(firstRefused), name: 'x', sequence: firstRefused, count: 1 }]),
    );
    expect(own.add(batch(firstRefused + 2))).toBe(false);
    // ...one that reached it (relayed whole) does.
    const last = firstRefused + 2;
    own.listingRelayed([
      { name: 'y', path: batch(last).path, segment: 0, sequence: last, count: 1 },
    ]);
    expect(own.add(batch(last + 1))).toBe(true);
    expect(own.entries().map((entry) => entry.sequence)).toEqual([last + 1]);
  });

  it('keeps entries in sequence order and forgets the bytes of all after a failed step', () => {
    const own = new OwnBatches();
    for (const sequence of [5, 3, 9]) own.add(batch(sequence));
    expect(own.entries().map((entry) => entry.sequence)).toEqual([3, 5, 9]);
    expect(own.data(batch(5).path)).toEqual(Buffer.from('x'));
    own.distrust();
    expect(own.data(batch(5).path)).toBeUndefined();
    expect(own.size).toBe(3);
  });
});
