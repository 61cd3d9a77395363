import {
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';

export const MAX_TEXT_LENGTH = 10_000;
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,100}$/;

/**
 * The body of POST /messages and POST /jobs, checked by the app's RequestValidationPipe: unknown
 * fields are refused, and each field reports its first problem only (`stopAtFirstError`).
 *
 * class-validator runs a property's decorators bottom-up, so each field lists its checks from the
 * last to run (top) to the first (bottom): the type check comes last in the source.
 */
export class MessageRequestDto {
  @MaxLength(MAX_TEXT_LENGTH, {
    message: ({ value }: ValidationArguments) =>
      `'text' must be at most ${MAX_TEXT_LENGTH} characters, got ${(value as string).length}`,
  })
  @Matches(/\S/, { message: "'text' must not be empty" })
  @IsString({
    message: ({ value }: ValidationArguments) =>
      `'text' is required and must be a string, got ${describeValue(value)}`,
  })
  text!: string;

  /** Chosen by the sender to recognise its message downstream; generated when absent. */
  @Matches(ID_PATTERN, {
    message: ({ value }: ValidationArguments) =>
      `'id' must be 1-100 characters of A-Z a-z 0-9 . _ : @ -, got ${describeValue(value)}`,
  })
  // Only an absent id is optional: null is refused like any other non-string (IsOptional would
  // let it through).
  @ValidateIf((request: MessageRequestDto) => request.id !== undefined)
  id?: string;
}

/** A short description of a bad value for a 400 message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}
