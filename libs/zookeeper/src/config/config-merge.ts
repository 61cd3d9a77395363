import { ConfigLayer, FlatValues } from './config-tree.js';
import { EffectiveValues } from './config-values.js';

/** Every key's value from its most specific layer (`layers` most specific first). */
export function mergeLayers(
  layers: readonly ConfigLayer[],
  layerFlat: ReadonlyMap<string, FlatValues>,
): EffectiveValues {
  const merged: EffectiveValues = new Map();
  for (const layer of [...layers].reverse()) {
    for (const [key, value] of layerFlat.get(layer.name) ?? []) {
      merged.set(key, { value, layer: layer.name });
    }
  }
  return merged;
}

/** `base` with the entries of `keys` taken from `next` (removed where `next` has none). */
export function withChanges(
  base: EffectiveValues,
  next: EffectiveValues,
  keys: readonly string[],
): EffectiveValues {
  const result = new Map(base);
  for (const key of keys) {
    const entry = next.get(key);
    if (entry) result.set(key, entry);
    else result.delete(key);
  }
  return result;
}
