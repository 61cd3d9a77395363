// The serializers refuse a value they cannot store with SerializationError (a ZookeeperError)
// saying why and what to use instead, also when called directly (a custom Serializer delegating
// to them, a relay's `map`); the storage's own SerializationError names the key without repeating
// "could not serialize".
import { describe, expect, it } from '@jest/globals';
import {
  BufferSerializer,
  JsonSerializer,
  SerializationError,
  StringSerializer,
  ZookeeperError,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';

const connections = useTestConnections('serializers');

function refusal(serialize: () => unknown): SerializationError {
  try {
    serialize();
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toBeInstanceOf(ZookeeperError);
    return error as SerializationError;
  }
  throw new Error('not refused');
}

describe('serializers', () => {
  it('refuse what they cannot store with SerializationError, saying what to use instead', () => {
    const json = new JsonSerializer();
    expect(refusal(() => json.serialize(Buffer.from('42'))).message).toBe(
      'could not serialize raw bytes: JsonSerializer stores JSON values, not raw bytes (they ' +
        'could read back as parsed JSON): use `serializer: new BufferSerializer()` for bytes',
    );
    expect(refusal(() => json.serialize(() => 1)).message).toBe(
      'could not serialize a value: a function value has no JSON form: store null or a JSON ' +
        'value instead',
    );
    expect(refusal(() => json.serialize(10n)).message).toMatch(/BigInt/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(refusal(() => json.serialize(cycle)).message).toMatch(/circular/);
    expect(refusal(() => new StringSerializer().serialize(7)).message).toBe(
      'could not serialize a value: StringSerializer stores strings, got number: pass a string, ' +
        'or use JsonSerializer (the default) for other values',
    );
    const bytes = refusal(() => new BufferSerializer().serialize('text'));
    expect(bytes.message).toMatch(/BufferSerializer stores Buffers, got string: pass a Buffer/);
    expect(bytes).toMatchObject({ subject: 'a value', direction: 'serialize' });
    expect(bytes.cause).toBeInstanceOf(TypeError);
  });

  it('the storage names the key, once', async () => {
    const storage = new ZookeeperStorage(connections.zk);
    try {
      const error = await storage.set('bytes', Buffer.from('42')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SerializationError);
      expect((error as SerializationError).message).toBe(
        'could not serialize the value of "bytes": JsonSerializer stores JSON values, not raw ' +
          'bytes (they could read back as parsed JSON): use `serializer: new BufferSerializer()` ' +
          'for bytes',
      );
      expect((error as SerializationError).cause).toBeInstanceOf(SerializationError);
      expect(await storage.has('bytes')).toBe(false);
    } finally {
      await storage.close();
    }
  });
});
