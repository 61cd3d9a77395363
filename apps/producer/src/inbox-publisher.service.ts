import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  AppendOutcomeUnknownError,
  InjectMessaging,
  NotAppendedError,
  WorkQueue,
  ZookeeperMessaging,
} from 'nestjs-zookeeper';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_MESSAGING_OPTIONS, DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';
import { acceptedMessage } from './accepted-message.js';
import { MasterService } from './master.service.js';
import type { MessageRequestDto } from './message-request.dto.js';

/**
 * Accepts messages on any producer instance: they go into the inbox work queue, durable once
 * `publish` resolves, and the master (whichever instance it is now or later) relays them to the log.
 * The master itself appends the messages it accepts straight to the log (one fenced write instead
 * of an inbox write and a relay step), while none of its inbox publishes is in flight: those
 * would otherwise land in the log after messages it accepted later. A message the direct append
 * did not put in the log goes to the inbox.
 */
@Injectable()
export class InboxPublisher {
  private readonly inbox: WorkQueue<DemoMessage>;
  private readonly name: string;
  private inboxPublishes = 0;

  constructor(
    @InjectMessaging() messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
    private readonly master: MasterService,
  ) {
    this.inbox = messaging.queue<DemoMessage>(DEMO_PATHS.inbox, DEMO_MESSAGING_OPTIONS.inbox);
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  async publish(request: MessageRequestDto): Promise<DemoMessage> {
    const message = acceptedMessage(request, this.name);
    const append = this.master.directAppend;
    if (append && this.inboxPublishes === 0) {
      try {
        await append(message);
        return message;
      } catch (error) {
        if (error instanceof AppendOutcomeUnknownError) {
          // Publishing it again could deliver it twice; the client decides.
          throw new ServiceUnavailableException(
            'the master lost its link to ZooKeeper while appending this message and stopped ' +
              'before it could tell whether it reached the log: it may be delivered; send it ' +
              'again only if a duplicate is acceptable',
          );
        }
        if (!(error instanceof NotAppendedError)) throw error;
      }
    }
    this.inboxPublishes++;
    try {
      await this.inbox.publish(message);
    } finally {
      this.inboxPublishes--;
    }
    return message;
  }

  /** Items (batches of messages) waiting in the inbox. */
  pendingItems(): Promise<number> {
    return this.inbox.pendingItems();
  }
}
