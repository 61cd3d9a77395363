export {
  decodeCount,
  encodeCount,
  InvalidCounterValueError,
  SharedCounter,
  type VersionedValue,
} from './shared-counter.js';
