import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ZookeeperContext } from 'nestjs-zookeeper/transport';
import { DEMO_PATTERNS, type DemoMessage } from '../../shared/src/demo-topology.js';
import { mono } from '../../shared/src/monotonic.js';
import { ConsumerCounters } from './consumer-counters.service.js';

/**
 * This client's subscription to the master's broadcast log: the transport (ServerZookeeper)
 * delivers every message of the `messages` pattern's log, in log order, under this instance's
 * durable subscriber id (INSTANCE_NAME, see consumer-transport.ts), and acks each one when this
 * handler returns. The committed offset lives in ZooKeeper, so a restarted client resumes right
 * after it; messages acked but not yet committed when the process died come again (the demo
 * counts them as redelivered). The acceptance (who, when) tells a message the log holds twice
 * from a POST sent twice.
 */
@Controller()
export class ReceiverController {
  private readonly logger = new Logger('Receiver');

  constructor(private readonly counters: ConsumerCounters) {}

  @EventPattern<string>(DEMO_PATTERNS.messages, { broadcast: true })
  receive(@Payload() message: DemoMessage, @Ctx() context: ZookeeperContext): void {
    const offset = context.getOffset();
    this.counters.messageReceived(offset);
    // Logged before the ack (the return): scripts/demo.ts counts deliveries from these lines.
    this.logger.log(
      `offset ${offset}: ${message.id} (accepted by ${message.acceptedBy} at ${message.acceptedAt})${mono()}`,
    );
  }
}
