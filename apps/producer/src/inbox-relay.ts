import type { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { LeaderElection, QueueConsumer, WorkQueue } from 'nestjs-zookeeper';
import type { ClientZookeeper } from 'nestjs-zookeeper/transport';
import { lastValueFrom } from 'rxjs';
import {
  DEMO_PATTERNS,
  DEMO_RELAY_LINGER_MS,
  type DemoMessage,
} from '../../shared/src/demo-topology.js';
import { mono } from '../../shared/src/monotonic.js';

/** The master's relay while it runs: messages it appended, and how to stop it. */
export interface InboxRelay {
  readonly relayed: number;
  /**
   * The fenced relay only: appends a message this instance accepted straight to the log (see
   * LogRelay.append); NotAppendedError means it is not there, and it goes to the inbox instead.
   */
  append?(message: DemoMessage): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wire driver (transactions): the transport's fenced relay. Whole inbox batches become whole log
 * batches, each step one transaction that checks this master's election node, appends the log
 * batch and deletes the inbox batches: exactly once, and nothing from a deposed master.
 */
export async function startFencedRelay(
  consumers: ClientZookeeper,
  inbox: WorkQueue<DemoMessage>,
  election: LeaderElection,
  logger: Logger,
): Promise<InboxRelay> {
  // The term's fencing token (its election node's czxid, growing from master to master): each
  // appended batch is logged with it, so scripts/chaos.ts can check the log's order of terms.
  const term = election.fencingToken?.czxid ?? '?';
  const relay = await consumers.relay(DEMO_PATTERNS.messages, inbox, {
    fence: election,
    lingerMs: DEMO_RELAY_LINGER_MS,
  });
  relay.events$.subscribe((event) => {
    if (event.type === 'relayed') {
      const entry = event.entry.split('/').pop();
      logger.log(`appended ${entry} (${event.messages} messages) term ${term}${mono()}`);
      return;
    }
    const detail =
      'error' in event
        ? String(event.error)
        : event.type === 'item-too-large'
          ? `${event.item} (${event.bytes} bytes)`
          : event.item;
    logger.warn(`relay: ${event.type}: ${detail}${mono()}`);
  });
  return relay;
}

/**
 * Native driver (no transactions): a queue consumer that emits each message and finishes it once
 * the emit is durable. At-least-once: a master killed between an emit and its progress write
 * leaves that message to be appended again by the next master (a duplicate, never a loss).
 * A failed append is a ZooKeeper problem, not the message's: retried without limit.
 */
export async function startEmittingRelay(
  consumers: ClientProxy,
  inbox: WorkQueue<DemoMessage>,
): Promise<InboxRelay> {
  let relayed = 0;
  const consumer: QueueConsumer<DemoMessage> = await inbox.consume(
    { concurrency: 1, maxAttempts: Number.MAX_SAFE_INTEGER, retryDelayMs: 500 },
    async (message) => {
      await lastValueFrom(consumers.emit(DEMO_PATTERNS.messages, message), {
        defaultValue: undefined,
      });
      relayed++;
    },
  );
  return {
    get relayed() {
      return relayed;
    },
    stop: () => consumer.stop(),
  };
}
