// The lifetimes of chunk generations: a chunked write reports success only for a value that can
// be read, and the chunks of ephemeral and TTL values go when their value goes, with nobody
// calling gc().
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  BufferSerializer,
  ConnectionState,
  ZookeeperConnection,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { firstMatch, until } from '../support/until.js';
import { useTestConnections } from '../support/connect.js';

const connections = useTestConnections('chunk-lifetimes');
const CHUNK_BYTES = 1024;

const chunkedStorage = (connection: ZookeeperConnection) =>
  new ZookeeperStorage(connection, {
    serializer: new BufferSerializer(),
    maxNodeBytes: CHUNK_BYTES,
  });

async function generations(key: string): Promise<string[]> {
  return connections.zk
    .getChildren(`/storage/__chunks/${encodeURIComponent(key)}`)
    .catch(() => [] as string[]);
}

interface Intact {
  assertIntact(...args: unknown[]): Promise<void>;
}

describe('chunk generations', () => {
  let reader: ZookeeperStorage;

  beforeAll(() => {
    reader = chunkedStorage(connections.zk);
  });

  it('reports a chunked write done only once its value can be read, even when the session expired before the head switch and a collector took the generation', async () => {
    const writerZk = await connections.open();
    const writer = chunkedStorage(writerZk);
    await writer.set('fenced', randomBytes(4 * CHUNK_BYTES));
    // The seam: right after the writer checked its generation, its session expires and another
    // client collects the generation (its writing marker went with the session).
    const chunks = (writer as unknown as { chunks: Intact }).chunks;
    const assertIntact = chunks.assertIntact.bind(chunks);
    let checks = 0;
    let collected = -1;
    chunks.assertIntact = async (...args: unknown[]) => {
      await assertIntact(...args);
      if (checks++ > 0) return;
      await expireSession(writerZk);
      // The owner hears of the expiry once the server has marked the session closing, which can
      // be before the close has deleted its ephemeral marker: collect until the marker is gone.
      collected = 0;
      await until(async () => (collected += (await reader.gc()).generationsRemoved) > 0, {
        message: "the collector to take the expired writer's generation",
      });
    };
    const value = randomBytes(5 * CHUNK_BYTES);
    await writer.set('fenced', value);
    expect(collected).toBe(1);
    // The switch to the collected generation was refused; the write started over.
    expect(checks).toBe(2);
    const read = await reader.get<Buffer>('fenced');
    expect(read?.value.equals(value)).toBe(true);
    expect(await generations('fenced')).toHaveLength(1);
  });

  it("removes an ephemeral value's chunks once its session ends, without gc()", async () => {
    const writerZk = await connections.open();
    const writer = chunkedStorage(writerZk);
    await writer.set('session-blob', randomBytes(3 * CHUNK_BYTES), { ephemeral: true });
    expect(await generations('session-blob')).toHaveLength(1);
    await writerZk.close();
    await until(async () => (await generations('session-blob')).length === 0, {
      message: 'the chunks of a closed session ephemeral value to go',
    });
    expect(await reader.get('session-blob')).toBeUndefined();
  });

  it("removes a TTL value's chunks after the value expired, without gc()", async () => {
    const writer = chunkedStorage(connections.zk);
    await writer.set('short-lived', randomBytes(3 * CHUNK_BYTES), { ttlMs: 300 });
    expect(await generations('short-lived')).toHaveLength(1);
    await until(async () => (await reader.get('short-lived')) === undefined, {
      message: 'the TTL value to expire',
    });
    await until(async () => (await generations('short-lived')).length === 0, {
      message: 'the chunks of an expired TTL value to go',
      timeoutMs: 60_000,
    });
  });

  it('keeps the chunks of a persistent value when its writer session ends', async () => {
    const writerZk = await connections.open();
    const writer = chunkedStorage(writerZk);
    const value = randomBytes(3 * CHUNK_BYTES);
    await writer.set('kept', value);
    const closed = firstMatch(writerZk.state$, (state) => state === ConnectionState.CLOSED, {
      message: 'the writer to close',
    });
    await writerZk.close();
    await closed;
    // Longer than the testing server's container and TTL sweep (each second).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await reader.get<Buffer>('kept'))?.value.equals(value)).toBe(true);
  });
});
