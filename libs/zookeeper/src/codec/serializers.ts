import { SerializationError } from './serialization-error.js';

/**
 * Turns values into znode bytes and back. The library's serializers refuse a value they cannot
 * store with a SerializationError; the storage, the messaging and the recipes name the key or
 * message in it.
 */
export interface Serializer {
  serialize(value: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

/**
 * JSON, readable by any ZooKeeper client: every value, strings included, is stored as its JSON
 * text, and comes back as the same JSON value. Raw bytes are refused (their bytes may happen to be
 * JSON text, and would come back parsed): store them with BufferSerializer. Bytes that are not
 * JSON (written by another client) read back as a Buffer.
 */
export class JsonSerializer implements Serializer {
  serialize(value: unknown): Buffer {
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      throw refused(
        'raw bytes',
        'JsonSerializer stores JSON values, not raw bytes (they could read back as parsed JSON): ' +
          'use `serializer: new BufferSerializer()` for bytes',
      );
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      // A BigInt, a cycle, a toJSON that throws.
      throw new SerializationError('a value', 'serialize', error);
    }
    // JSON.stringify returns undefined for undefined, functions and symbols: nothing to store.
    if (text === undefined) {
      throw refused(
        'a value',
        `a ${typeof value} value has no JSON form: store null or a JSON value instead`,
      );
    }
    return Buffer.from(text, 'utf8');
  }

  deserialize(bytes: Buffer): unknown {
    if (bytes.length === 0) return null;
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      return bytes;
    }
  }
}

/** UTF-8 text as is. */
export class StringSerializer implements Serializer {
  serialize(value: unknown): Buffer {
    if (typeof value !== 'string') {
      throw refused(
        'a value',
        `StringSerializer stores strings, got ${typeof value}: pass a string, or use ` +
          'JsonSerializer (the default) for other values',
      );
    }
    return Buffer.from(value, 'utf8');
  }

  deserialize(bytes: Buffer): unknown {
    return bytes.toString('utf8');
  }
}

/** Raw bytes as is. */
export class BufferSerializer implements Serializer {
  serialize(value: unknown): Buffer {
    if (!Buffer.isBuffer(value)) {
      throw refused(
        'a value',
        `BufferSerializer stores Buffers, got ${typeof value}: pass a Buffer, or use ` +
          'JsonSerializer (the default) for other values',
      );
    }
    return value;
  }

  deserialize(bytes: Buffer): unknown {
    return bytes;
  }
}

/** A value the serializer does not store: a SerializationError caused by a TypeError saying why. */
function refused(subject: string, reason: string): SerializationError {
  return new SerializationError(subject, 'serialize', new TypeError(reason));
}
