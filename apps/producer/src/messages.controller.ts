import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import type { DemoMessage } from '../../shared/src/demo-topology.js';
import { InboxPublisher } from './inbox-publisher.service.js';
import { JobsPublisher } from './jobs-publisher.service.js';
import { MessageRequestDto } from './message-request.dto.js';

/**
 * 202: the message is stored in ZooKeeper (the inbox or the jobs queue), not yet delivered. Bodies
 * reach these handlers validated (the app's RequestValidationPipe); a bad one gets a 400.
 */
@Controller()
export class MessagesController {
  constructor(
    private readonly inbox: InboxPublisher,
    private readonly jobs: JobsPublisher,
  ) {}

  @Post('messages')
  @HttpCode(202)
  send(@Body() request: MessageRequestDto): Promise<DemoMessage> {
    return this.inbox.publish(request);
  }

  @Post('jobs')
  @HttpCode(202)
  enqueueJob(@Body() request: MessageRequestDto): Promise<DemoMessage> {
    return this.jobs.publish(request);
  }
}
