import { describe, expect, it } from '@jest/globals';
import {
  namesFromSequence,
  parseSegmentEntries,
} from '../../libs/zookeeper/src/messaging/shared/entry-names.js';

// Pure logic: batch znode names, no server involved.
describe('batch entry names', () => {
  const names = [
    'm3-0000000007',
    '_c_1b4e28ba-2fa1-11d2-883f-0016d3cca427-m1-0000000012',
    'm10-0000000009',
    'offsets',
    'm2-0000000003',
  ];

  it('namesFromSequence keeps the names at or past a sequence number, and every name that is not a batch', () => {
    expect(namesFromSequence(names, 9)).toEqual([
      '_c_1b4e28ba-2fa1-11d2-883f-0016d3cca427-m1-0000000012',
      'm10-0000000009',
      'offsets',
    ]);
    expect(namesFromSequence(names, 0)).toBe(names);
    expect(namesFromSequence(names, -5)).toBe(names);
    expect(namesFromSequence(names, 13)).toEqual(['offsets']);
  });

  it('what namesFromSequence cuts is exactly what a reader past that sequence would skip', () => {
    for (const from of [0, 3, 4, 7, 8, 12, 13]) {
      const all = parseSegmentEntries(names, '/log/log', 0).filter(
        (entry) => entry.sequence >= from,
      );
      expect(parseSegmentEntries(namesFromSequence(names, from), '/log/log', 0)).toEqual(all);
    }
  });
});
