// A protected create whose first attempt went through while its reply was lost, and whose node
// another client deleted before the retry looked for it (a queue consumer that took the item):
// the lookup by the `_c_<uuid>-` prefix finds nothing, and the retry makes the node again. This is
// how queue-crash stored a batch twice across a server restart: the server had logged the
// publisher's create but died before answering it, the consumers reconnected first and took the
// item, and the publisher's retry, reconnecting later, appended the batch again (one create id,
// consecutive sequence numbers, each item run once).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectionState, CreateMode, ZookeeperConnection } from 'nestjs-zookeeper';
import { nodeName } from '../../libs/zookeeper/src/connection/paths.js';
import { TcpProxy } from '../driver/wire/tcp-proxy.js';
import { nextState, testConnectString, useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = useTestConnections('lost-reply-removed');
let proxy: TcpProxy;
beforeAll(async () => {
  const [host, port] = testConnectString().split(',')[0].split('/')[0].split(':');
  proxy = await TcpProxy.start(host, Number(port));
});
afterAll(() => proxy?.close());

describe('a protected create whose node was removed before the retry looked for it', () => {
  it('is made again: the lookup cannot tell a node someone deleted from one never made', async () => {
    const consumer = connections.zk;
    const publisher: ZookeeperConnection = await connections.open({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
    });
    await publisher.mkdirp('/items');
    const createId = randomUUID();

    // The create reaches the server and is applied; its reply never comes back.
    proxy.repliesDropped = true;
    const appending = publisher.create('/items/batch-', 'payload', {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
      createId,
    });
    let first = '';
    await until(
      async () => {
        [first = ''] = await consumer.getChildren('/items');
        return first !== '';
      },
      { message: "the first attempt's node" },
    );
    // The link drops with the reply lost: the retry waits for a reconnect, and meanwhile a
    // consumer takes the node.
    const suspended = nextState(publisher, ConnectionState.SUSPENDED);
    proxy.block();
    await suspended;
    await consumer.delete(`/items/${first}`);
    proxy.repliesDropped = false;
    proxy.unblock();

    const retried = nodeName(await appending);
    expect(first).toMatch(new RegExp(`^_c_${createId}-batch-\\d{10}$`));
    expect(retried).toMatch(new RegExp(`^_c_${createId}-batch-\\d{10}$`));
    expect(retried).not.toBe(first);
    expect(await consumer.getChildren('/items')).toEqual([retried]);
  });
});
