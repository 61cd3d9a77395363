import { joinPath } from '../connection/paths.js';
import { OptionalDependencyMissingError } from '../errors/library-errors.js';
import { ConfigDocumentError } from './config-errors.js';

/** A configuration layer: its name (`billing,prod`) and its znode (`/config/billing,prod`). */
export interface ConfigLayer {
  readonly name: string;
  readonly path: string;
}

/** The dotted keys of one layer and their values (strings from znodes, any JSON from documents). */
export type FlatValues = Map<string, unknown>;

/** The js-yaml module, when installed (an optional peer dependency, loaded once). */
export interface YamlModule {
  load(text: string): unknown;
  dump(value: unknown, options?: Record<string, unknown>): string;
}

let yamlModule: Promise<YamlModule | undefined> | undefined;

/** js-yaml if it can be imported, else undefined. */
export function loadYaml(): Promise<YamlModule | undefined> {
  yamlModule ??= import('js-yaml').then(
    (module) => (module.default ?? module) as YamlModule,
    () => undefined,
  );
  return yamlModule;
}

/**
 * The layers from most to least specific, as Spring Cloud Zookeeper orders them:
 * `<app>,<profile>` (the last profile first), `<app>`, then the same for the shared context
 * (`application`) unless `sharedContext` is false.
 */
export function configLayers(
  root: string,
  application: string,
  profiles: readonly string[],
  sharedContext: string | false,
  separator: string,
): ConfigLayer[] {
  const contexts = sharedContext === false ? [application] : [application, sharedContext];
  return contexts
    .flatMap((context) => [
      ...[...profiles].reverse().map((profile) => `${context}${separator}${profile}`),
      context,
    ])
    .map((name) => ({ name, path: joinPath(root, name) }));
}

/**
 * The values of one layer from its znodes (path relative to the namespace → data): the layer
 * node's own data is an optional JSON or YAML document (flattened to dotted keys), then every leaf
 * znode below it is a key (its path below the layer, `/` read as `.`) whose UTF-8 data is a
 * string. A key znode overrides the same key of the document; interior znodes' data is ignored.
 * Throws ConfigDocumentError (naming the layer) when the document does not parse or is not an
 * object, OptionalDependencyMissingError when it is not JSON and js-yaml is not installed.
 */
export function layerValues(
  layer: ConfigLayer,
  nodes: ReadonlyMap<string, Buffer>,
  yaml: YamlModule | undefined,
): FlatValues {
  const values: FlatValues = new Map();
  const document = nodes.get(layer.path);
  if (document && document.length > 0) {
    flattenInto(values, parseDocument(layer, document.toString('utf8'), yaml), '');
  }
  const prefix = `${layer.path}/`;
  const interior = new Set<string>();
  for (const path of nodes.keys()) {
    const index = path.lastIndexOf('/');
    if (index > 0) interior.add(path.slice(0, index));
  }
  for (const [path, data] of nodes) {
    if (!path.startsWith(prefix) || interior.has(path)) continue;
    values.set(path.slice(prefix.length).split('/').join('.'), data.toString('utf8'));
  }
  return values;
}

function parseDocument(layer: ConfigLayer, text: string, yaml: YamlModule | undefined): unknown {
  const trimmed = text.trim();
  if (trimmed.length === 0) return {};
  let parsed: unknown;
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new ConfigDocumentError(
        layer.name,
        layer.path,
        `its JSON document does not parse (${String(error)})`,
        error,
      );
    }
  } else {
    if (!yaml) {
      throw new OptionalDependencyMissingError(
        'js-yaml',
        `layer ${layer.name}: its document is not JSON, and reading it as YAML`,
      );
    }
    try {
      parsed = yaml.load(trimmed);
    } catch (error) {
      throw new ConfigDocumentError(
        layer.name,
        layer.path,
        `its YAML document does not parse (${String(error)})`,
        error,
      );
    }
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigDocumentError(
      layer.name,
      layer.path,
      `its document must be an object of keys, not ${describeValue(parsed)}`,
    );
  }
  return parsed;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Adds the leaves of `value` under dotted keys (arrays and scalars are leaves). */
export function flattenInto(target: FlatValues, value: unknown, prefix: string): void {
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) target.set(prefix, {});
    for (const [name, child] of entries)
      flattenInto(target, child, prefix ? `${prefix}.${name}` : name);
  } else if (prefix) {
    target.set(prefix, value);
  }
}

export function flatten(value: unknown): FlatValues {
  const target: FlatValues = new Map();
  flattenInto(target, value, '');
  return target;
}

/**
 * The nested object of dotted keys. A key that is also the prefix of a deeper key (`db` and
 * `db.host`) gives way to the deeper one.
 */
export function unflatten(values: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const keys = [...values.keys()].sort((a, b) => depth(b) - depth(a));
  for (const key of keys) {
    const segments = key.split('.');
    let node = result;
    let blocked = false;
    for (const segment of segments.slice(0, -1)) {
      const next = node[segment];
      if (next === undefined) node = node[segment] = {};
      else if (isPlainObject(next)) node = next;
      else {
        blocked = true;
        break;
      }
    }
    const last = segments[segments.length - 1];
    if (!blocked && node[last] === undefined) node[last] = values.get(key);
  }
  return result;
}

function depth(key: string): number {
  let count = 0;
  for (const character of key) if (character === '.') count++;
  return count;
}

/** The value at a dotted key of a nested object. */
export function valueAt(config: unknown, key: string): unknown {
  let node = config;
  for (const segment of key.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Structural equality of configuration values (JSON-like data). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Makes `target` equal to `source` in place, keeping the identity of nested objects present in
 * both (so references handed out earlier, e.g. to ConfigService's merged config, stay current).
 */
export function syncInPlace(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): void {
  for (const key of Object.keys(target)) if (!(key in source)) delete target[key];
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(existing) && isPlainObject(value) && existing !== value) {
      syncInPlace(existing, value);
    } else if (existing !== value) {
      target[key] = value;
    }
  }
}
