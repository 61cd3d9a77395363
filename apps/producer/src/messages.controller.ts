import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import type { DemoMessage } from '../../shared/src/demo-topology.js';
import { InboxService } from './inbox.service.js';
import { InvalidMessageRequestError, parseMessageRequest } from './message-request.js';

/** 202: the message is stored in ZooKeeper (the inbox or the jobs queue), not yet delivered. */
@Controller()
export class MessagesController {
  constructor(private readonly inbox: InboxService) {}

  @Post('messages')
  @HttpCode(202)
  send(@Body() body: unknown): Promise<DemoMessage> {
    return this.inbox.accept(validated(body));
  }

  @Post('jobs')
  @HttpCode(202)
  enqueueJob(@Body() body: unknown): Promise<DemoMessage> {
    return this.inbox.acceptJob(validated(body));
  }
}

function validated(body: unknown) {
  try {
    return parseMessageRequest(body);
  } catch (error) {
    if (error instanceof InvalidMessageRequestError) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: error.problems,
      });
    }
    throw error;
  }
}
