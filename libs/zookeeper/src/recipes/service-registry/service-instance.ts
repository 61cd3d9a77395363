import { LibraryErrorCode } from '../../errors/library-errors.js';
import { ZookeeperError } from '../../errors/zookeeper.error.js';
/**
 * Service instances in the JSON format of Curator's service discovery (curator-x-discovery's
 * `JsonInstanceSerializer`), which Spring Cloud Zookeeper also uses, so that either side finds
 * the other's instances.
 *
 * As Curator 5 writes it with the default serializer (its "compatible" mode, without the
 * `enabled` field added by CURATOR-275 that Curator 2/3 readers reject):
 *
 * ```json
 * {"name":"orders","id":"3f1c…","address":"10.0.0.7","port":8080,"sslPort":null,
 *  "payload":null,"registrationTimeUTC":1718000000000,"serviceType":"DYNAMIC",
 *  "uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false},
 *  {"value":"address","variable":true},{"value":":","variable":false},{"value":"port","variable":true}]}}
 * ```
 *
 * `port`, `sslPort`, `payload` and `uriSpec` are written as `null` when unset, never left out.
 * Curator declares the payload with Jackson's `@JsonTypeInfo(use = CLASS)`, so a Java reader
 * whose serializer was built for a payload class needs the class name in the payload, as
 * `"@class"`: Spring Cloud Zookeeper expects
 * `{"@class":"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance","id":…,"name":…,
 * "metadata":{…}}` (see {@link springCloudPayload}); without it the Java side fails to cast the
 * payload of that instance. Here the payload is plain JSON, `@class` included, both ways.
 */

export type ServiceType = 'DYNAMIC' | 'DYNAMIC_SEQUENTIAL' | 'STATIC' | 'PERMANENT';

export interface UriSpecPart {
  readonly value: string;
  /** True for a `{variable}`, false for literal text. */
  readonly variable: boolean;
}

/** Curator's UriSpec as serialized: the template `{scheme}://{address}:{port}` split in parts. */
export interface UriSpec {
  readonly parts: readonly UriSpecPart[];
}

export interface ServiceInstance<P = unknown> {
  readonly name: string;
  readonly id: string;
  readonly address: string | null;
  readonly port: number | null;
  readonly sslPort: number | null;
  readonly payload: P | null;
  /** Milliseconds since the epoch (Java's `System.currentTimeMillis()` at registration). */
  readonly registrationTimeUTC: number;
  readonly serviceType: ServiceType;
  readonly uriSpec: UriSpec | null;
  /** Only written by Curator's non-compatible mode; absent means enabled. Never written here. */
  readonly enabled?: boolean;
}

export const SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS =
  'org.springframework.cloud.zookeeper.discovery.ZookeeperInstance';

/** The payload Spring Cloud Zookeeper writes and expects (`ZookeeperInstance`). */
export interface SpringCloudPayload {
  readonly '@class': typeof SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS;
  readonly id: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A payload that Spring Cloud Zookeeper discovery clients can read. */
export function springCloudPayload(
  id: string,
  name: string,
  metadata: Record<string, string> = {},
): SpringCloudPayload {
  return { '@class': SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS, id, name, metadata };
}

/** Thrown for a znode that does not hold a service instance. */
export class InvalidServiceInstanceError extends ZookeeperError {
  constructor(reason: string) {
    super(LibraryErrorCode.INVALID_SERVICE_INSTANCE, `not a service instance: ${reason}`);
  }
}

/** The instance as Curator's JsonInstanceSerializer writes it: same fields, same order. */
export function serializeInstance(instance: ServiceInstance): Buffer {
  const { name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType, uriSpec } =
    instance;
  const ordered = {
    name,
    id,
    address,
    port,
    sslPort,
    payload,
    registrationTimeUTC,
    serviceType,
    uriSpec: uriSpec && {
      parts: uriSpec.parts.map(({ value, variable }) => ({ value, variable })),
    },
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

/** Reads an instance written by Curator, Spring Cloud Zookeeper or this library. */
export function parseInstance<P = unknown>(bytes: Buffer): ServiceInstance<P> {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidServiceInstanceError('the data is not JSON');
  }
  if (!isRecord(raw)) throw new InvalidServiceInstanceError('the JSON is not an object');
  const text = (field: string, required: boolean): string | null => {
    const value = raw[field];
    if (typeof value === 'string') return value;
    if (value == null && !required) return null;
    throw new InvalidServiceInstanceError(`'${field}' must be a string`);
  };
  const integer = (field: string): number | null => {
    const value = raw[field];
    if (value == null) return null;
    if (Number.isInteger(value)) return value as number;
    throw new InvalidServiceInstanceError(`'${field}' must be an integer or null`);
  };
  return {
    name: text('name', true)!,
    id: text('id', true)!,
    address: text('address', false),
    port: integer('port'),
    sslPort: integer('sslPort'),
    payload: (raw.payload ?? null) as P | null,
    registrationTimeUTC: integer('registrationTimeUTC') ?? 0,
    serviceType: (text('serviceType', false) ?? 'DYNAMIC') as ServiceType,
    uriSpec: parseUriSpecJson(raw.uriSpec),
    ...(typeof raw.enabled === 'boolean' ? { enabled: raw.enabled } : {}),
  };
}

/** Splits a template such as `{scheme}://{address}:{port}` as Curator's UriSpec does. */
export function parseUriSpec(template: string): UriSpec {
  const parts: UriSpecPart[] = [];
  const pattern = /\{([^{}]*)\}|[^{]+|\{/g;
  for (const [whole, variable] of template.matchAll(pattern)) {
    if (variable !== undefined) parts.push({ value: variable, variable: true });
    else parts.push({ value: whole, variable: false });
  }
  return { parts: mergeLiterals(parts) };
}

/**
 * The instance's URI from its uriSpec: `scheme` is `https` when `sslPort` is set, else `http`;
 * `name`, `id`, `address`, `port` and `ssl-port` come from the instance; `values` adds others.
 * Undefined without a uriSpec.
 */
export function instanceUri(
  instance: ServiceInstance,
  values: Record<string, string | number> = {},
): string | undefined {
  if (!instance.uriSpec) return undefined;
  const known: Record<string, string | number | null> = {
    scheme: instance.sslPort != null ? 'https' : 'http',
    name: instance.name,
    id: instance.id,
    address: instance.address,
    port: instance.port,
    'ssl-port': instance.sslPort,
    ...values,
  };
  return instance.uriSpec.parts
    .map((part) => (part.variable ? String(known[part.value] ?? `{${part.value}}`) : part.value))
    .join('');
}

function parseUriSpecJson(value: unknown): UriSpec | null {
  if (value == null) return null;
  if (!isRecord(value) || !Array.isArray(value.parts))
    throw new InvalidServiceInstanceError("'uriSpec' must be null or { parts: [...] }");
  const parts = value.parts.map((part: unknown) => {
    if (!isRecord(part) || typeof part.value !== 'string')
      throw new InvalidServiceInstanceError("each 'uriSpec' part needs a string 'value'");
    return { value: part.value, variable: part.variable === true };
  });
  return { parts };
}

function mergeLiterals(parts: UriSpecPart[]): UriSpecPart[] {
  const merged: UriSpecPart[] = [];
  for (const part of parts) {
    const last = merged[merged.length - 1];
    if (last && !last.variable && !part.variable)
      merged[merged.length - 1] = { value: last.value + part.value, variable: false };
    else merged.push(part);
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
