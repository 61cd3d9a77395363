import { unflatten } from './config-tree.js';
import { ConfigValueType, StandardSchemaLike } from './zookeeper-config-options.interface.js';

/** The value of a key in effect and the layer it came from. */
export interface EffectiveValue {
  readonly value: unknown;
  readonly layer: string;
}

export type EffectiveValues = Map<string, EffectiveValue>;

export interface ValueRules {
  readonly types?: Readonly<Record<string, ConfigValueType>>;
  readonly validationSchema?: StandardSchemaLike;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- @nestjs/config's signature
  readonly validate?: (config: Record<string, any>) => Record<string, any>;
}

export type Evaluation =
  | { readonly ok: true; readonly config: Record<string, unknown> }
  | { readonly ok: false; readonly problems: string[] };

/**
 * The configuration object of `values`: each value converted to its declared type, then the
 * object checked by the schema and by `validate` (whose result is the configuration, as with
 * @nestjs/config). Every problem is collected, each naming its key and layer when known.
 */
export async function evaluate(values: EffectiveValues, rules: ValueRules): Promise<Evaluation> {
  const problems: string[] = [];
  const typed = new Map<string, unknown>();
  for (const [key, { value, layer }] of values) {
    const type = rules.types?.[key];
    if (!type) {
      typed.set(key, value);
      continue;
    }
    const converted = convert(value, type);
    if (converted.ok) typed.set(key, converted.value);
    else problems.push(`${key} (layer ${layer}): ${converted.problem}`);
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort() };
  let config: Record<string, unknown> = unflatten(typed);
  if (rules.validationSchema) {
    const result = await rules.validationSchema['~standard'].validate(config);
    if (result.issues) {
      return {
        ok: false,
        problems: result.issues.map((issue) => {
          const key = (issue.path ?? [])
            .map((segment) =>
              typeof segment === 'object' && segment !== null
                ? String(segment.key)
                : String(segment),
            )
            .join('.');
          const layer = values.get(key)?.layer;
          return `${key || '(root)'}${layer ? ` (layer ${layer})` : ''}: ${issue.message}`;
        }),
      };
    }
    config = { ...config, ...(result.value as Record<string, unknown>) };
  }
  if (rules.validate) {
    try {
      config = rules.validate(config) as Record<string, unknown>;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        problems: message
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line.length > 0),
      };
    }
  }
  return { ok: true, config };
}

type Conversion = { ok: true; value: unknown } | { ok: false; problem: string };

function convert(value: unknown, type: ConfigValueType): Conversion {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  switch (type) {
    case 'string':
      return typeof value === 'string'
        ? { ok: true, value }
        : { ok: true, value: typeof value === 'object' ? JSON.stringify(value) : String(value) };
    case 'number':
    case 'integer': {
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(number)) return { ok: false, problem: `${shown} is not a number` };
      if (type === 'integer' && !Number.isInteger(number)) {
        return { ok: false, problem: `${shown} is not an integer` };
      }
      return { ok: true, value: number };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
      if (text === 'true') return { ok: true, value: true };
      if (text === 'false') return { ok: true, value: false };
      return { ok: false, problem: `${shown} is not a boolean (true or false)` };
    }
    case 'json': {
      if (typeof value !== 'string') return { ok: true, value };
      try {
        return { ok: true, value: JSON.parse(value) };
      } catch {
        return { ok: false, problem: `${shown} is not JSON` };
      }
    }
  }
}
