/** Turns values into znode bytes and back. */
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
      throw new TypeError(
        'JsonSerializer stores JSON values, not raw bytes (they could read back as parsed JSON): ' +
          'use `serializer: new BufferSerializer()` for bytes',
      );
    }
    const text = JSON.stringify(value);
    // JSON.stringify returns undefined for undefined, functions and symbols: nothing to store.
    if (text === undefined) throw new TypeError(`a ${typeof value} value has no JSON form`);
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
    if (typeof value !== 'string')
      throw new TypeError(`StringSerializer stores strings, got ${typeof value}`);
    return Buffer.from(value, 'utf8');
  }

  deserialize(bytes: Buffer): unknown {
    return bytes.toString('utf8');
  }
}

/** Raw bytes as is. */
export class BufferSerializer implements Serializer {
  serialize(value: unknown): Buffer {
    if (!Buffer.isBuffer(value))
      throw new TypeError(`BufferSerializer stores Buffers, got ${typeof value}`);
    return value;
  }

  deserialize(bytes: Buffer): unknown {
    return bytes;
  }
}
