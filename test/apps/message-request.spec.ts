import { describe, expect, it } from '@jest/globals';
import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { MessageRequestDto } from '../../apps/producer/src/message-request.dto.js';
import { RequestValidationPipe } from '../../apps/producer/src/request-validation.pipe.js';

// The producer's body validation without ZooKeeper or HTTP: the pipe as Nest calls it for
// `@Body() request: MessageRequestDto` (demo-flow.spec.ts checks the same over HTTP).
const pipe = new RequestValidationPipe();
const body: ArgumentMetadata = { type: 'body', metatype: MessageRequestDto, data: '' };

/** The 400 body's `message`: what the producer answers for `value`. */
async function messages(value: unknown): Promise<string[]> {
  try {
    await pipe.transform(value, body);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { message: string[] }).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('POST /messages and /jobs body (MessageRequestDto + RequestValidationPipe)', () => {
  it('turns a valid body into the DTO', async () => {
    const request = await pipe.transform({ text: 'hello', id: 'msg-1' }, body);
    expect(request).toBeInstanceOf(MessageRequestDto);
    expect(request).toEqual({ text: 'hello', id: 'msg-1' });
    expect(await pipe.transform({ text: 'x'.repeat(10_000) }, body)).toEqual({
      text: 'x'.repeat(10_000),
    });
  });

  it('refuses unknown fields, each by name', async () => {
    expect(await messages({ text: 'hello', extra: 1, more: 'x' })).toEqual([
      'property extra should not exist',
      'property more should not exist',
    ]);
  });

  it('lists every problem, one per field', async () => {
    expect(await messages({ text: 5, id: 'has space', extra: true })).toEqual([
      'property extra should not exist',
      "'text' is required and must be a string, got number",
      `'id' must be 1-100 characters of A-Z a-z 0-9 . _ : @ -, got "has space"`,
    ]);
    expect(await messages({})).toEqual(["'text' is required and must be a string, got nothing"]);
    expect(await messages({ text: ' \n ' })).toEqual(["'text' must not be empty"]);
    expect(await messages({ text: 'y'.repeat(10_001) })).toEqual([
      "'text' must be at most 10000 characters, got 10001",
    ]);
    expect(await messages({ text: 'ok', id: null })).toEqual([
      "'id' must be 1-100 characters of A-Z a-z 0-9 . _ : @ -, got null",
    ]);
  });

  it('refuses a body that is not a JSON object with one message', async () => {
    for (const [value, got] of [
      [[{ text: 'in an array' }], 'an array'],
      [undefined, 'nothing'],
      [null, 'null'],
      ['text', '"text"'],
    ] as const) {
      expect(await messages(value)).toEqual([
        `the body must be a JSON object like {"text": "hello"}, got ${got}`,
      ]);
    }
  });
});
