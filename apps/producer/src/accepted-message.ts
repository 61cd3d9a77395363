import { randomUUID } from 'node:crypto';
import type { DemoMessage } from '../../shared/src/demo-topology.js';
import type { MessageRequestDto } from './message-request.dto.js';

/** A validated request as it goes into a queue: with an id and who accepted it, when. */
export function acceptedMessage(request: MessageRequestDto, acceptedBy: string): DemoMessage {
  return {
    id: request.id ?? randomUUID(),
    text: request.text,
    acceptedBy,
    acceptedAt: new Date().toISOString(),
  };
}
