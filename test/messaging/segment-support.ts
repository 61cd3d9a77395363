import { afterAll, expect } from '@jest/globals';
import { Subscription } from 'rxjs';
import { BroadcastLog, ZookeeperConnection } from 'nestjs-zookeeper';
import {
  SegmentedFolder,
  segmentIndices,
  segmentName,
} from '../../libs/zookeeper/src/messaging/shared/segmented-folder.js';
import { SEQUENCE_STRIDE } from '../../libs/zookeeper/src/messaging/shared/entry-names.js';

/** What the segment tests publish: who wrote it and its number in that writer's order. */
export type Sent = { writer: string; n: number };

const subscriptions: Subscription[] = [];
afterAll(() => subscriptions.forEach((subscription) => subscription.unsubscribe()));

/** Collects every delivery of `subscriberId` (acked at once) and the subscription's errors. */
export function collect<T>(log: BroadcastLog<T>, subscriberId: string) {
  const received: { offset: number; message: T }[] = [];
  const errors: unknown[] = [];
  const subscription = log.deliveries(subscriberId, { autoAck: true }).subscribe({
    next: ({ offset, message }) => received.push({ offset, message }),
    error: (error: unknown) => errors.push(error),
  });
  subscriptions.push(subscription);
  return { received, errors, subscription };
}

/** The segments (`base`, `base.1`, ...) under `parent`, ascending. */
export async function segmentsOf(zk: ZookeeperConnection, parent: string, base: string) {
  return segmentIndices(base, await zk.getChildren(parent));
}

/** `segment:own sequence` of the batch holding `offset` (offsets are `sequence * 100000 + index`). */
export function batchOf(offset: number): string {
  const sequence = Math.floor(offset / 100_000);
  return `${Math.floor(sequence / SEQUENCE_STRIDE)}:${sequence % SEQUENCE_STRIDE}`;
}

/**
 * The segments as the server has them, for a failure message: each one's name, whether it is
 * sealed, and the own sequence numbers of its batches (`log.3 sealed: 0 1 2 3 4`).
 */
export async function describeSegments(segments: SegmentedFolder): Promise<string> {
  const lines: string[] = [];
  for (const index of await segments.indices()) {
    const [sealed, entries] = await Promise.all([
      segments.isSealed(index),
      segments.segmentEntries(index),
    ]);
    const own = entries.map((entry) => entry.sequence - index * SEQUENCE_STRIDE);
    const name = segmentName(segments.base, index);
    lines.push(`${name} ${sealed ? 'sealed' : 'open'}: ${own.join(' ') || '(empty)'}`);
  }
  return lines.join('\n');
}

/** Each writer's messages once each, in its order, and nothing else. */
export function expectEachWriterInOrder(messages: readonly Sent[], counts: Record<string, number>) {
  for (const [writer, count] of Object.entries(counts)) {
    const seen = messages.filter((message) => message.writer === writer).map(({ n }) => n);
    expect(seen).toEqual(Array.from({ length: count }, (_, n) => n));
  }
  expect(messages).toHaveLength(Object.values(counts).reduce((sum, count) => sum + count, 0));
}
