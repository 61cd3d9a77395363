import { ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';
import { describeValue } from './message-request.dto.js';

/**
 * The producer's global pipe: Nest's ValidationPipe on the DTO classes (unknown fields refused,
 * the body turned into the DTO instance), answering 400 with `message: [every problem]`.
 *
 * A body that is not a JSON object is refused first, with one message of its own: the plain pipe
 * would map an array element by element and answer with messages about its indexes.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // One problem per field: "'text' is required" says it all, not also "must not be empty".
      stopAtFirstError: true,
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw new BadRequestException([
        `the body must be a JSON object like {"text": "hello"}, got ${describeValue(value)}`,
      ]);
    }
    return super.transform(value, metadata);
  }
}
