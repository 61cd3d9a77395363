/** The body of POST /messages and POST /jobs. */
export interface MessageRequest {
  text: string;
  /** Chosen by the sender to recognise its message downstream; generated when absent. */
  id?: string;
}

export const MAX_TEXT_LENGTH = 10_000;
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,100}$/;
const FIELDS = ['id', 'text'];

/** Thrown with every problem of a request body at once; the controller answers 400 with them. */
export class InvalidMessageRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid message: ${problems.join('; ')}`);
    this.name = 'InvalidMessageRequestError';
  }
}

/** Checks a parsed JSON body; returns it typed or throws InvalidMessageRequestError. */
export function parseMessageRequest(body: unknown): MessageRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidMessageRequestError([
      `the body must be a JSON object like {"text": "hello"}, got ${describe(body)}`,
    ]);
  }
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (!FIELDS.includes(key))
      problems.push(`unknown field '${key}' (allowed: ${FIELDS.join(', ')})`);
  }
  const { text, id } = fields;
  if (typeof text !== 'string') {
    problems.push(`'text' is required and must be a string, got ${describe(text)}`);
  } else if (text.trim().length === 0) {
    problems.push(`'text' must not be empty`);
  } else if (text.length > MAX_TEXT_LENGTH) {
    problems.push(`'text' must be at most ${MAX_TEXT_LENGTH} characters, got ${text.length}`);
  }
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    problems.push(`'id' must be 1-100 characters of A-Z a-z 0-9 . _ : @ -, got ${describe(id)}`);
  }
  if (problems.length > 0) throw new InvalidMessageRequestError(problems);
  return { text: text as string, ...(id === undefined ? {} : { id: id as string }) };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}
