import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectMessaging, WorkQueue, ZookeeperMessaging } from 'nestjs-zookeeper';
import type { DemoEnv } from '../../shared/src/demo-config.js';
import { DEMO_MESSAGING_OPTIONS, DEMO_PATHS, DemoMessage } from '../../shared/src/demo-topology.js';
import { acceptedMessage } from './accepted-message.js';
import type { MessageRequestDto } from './message-request.dto.js';

/**
 * Accepts messages on any producer instance: they go into the inbox work queue, durable once
 * `publish` resolves, and the master (whichever instance it is now or later) relays them to the log.
 */
@Injectable()
export class InboxPublisher {
  private readonly inbox: WorkQueue<DemoMessage>;
  private readonly name: string;

  constructor(
    @InjectMessaging() messaging: ZookeeperMessaging,
    config: ConfigService<DemoEnv, true>,
  ) {
    this.inbox = messaging.queue<DemoMessage>(DEMO_PATHS.inbox, DEMO_MESSAGING_OPTIONS.inbox);
    this.name = config.get('INSTANCE_NAME', { infer: true });
  }

  async publish(request: MessageRequestDto): Promise<DemoMessage> {
    const message = acceptedMessage(request, this.name);
    await this.inbox.publish(message);
    return message;
  }

  /** Items (batches of messages) waiting in the inbox. */
  pendingItems(): Promise<number> {
    return this.inbox.pendingItems();
  }
}
