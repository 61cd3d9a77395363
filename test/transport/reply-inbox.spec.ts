// A client's reply folder may hold a batch it cannot decode (a foreign writer: the default ACL is
// open). It is reported and removed, and the replies after it still arrive at once.
import { describe, expect, it } from '@jest/globals';
import { CorruptBatchError, CreateMode } from 'nestjs-zookeeper';
import { encodeBatch } from '../../libs/zookeeper/src/messaging/shared/message-batch.js';
import { ReplyInbox } from '../../libs/zookeeper/src/transport/reply-channel.js';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = useTestConnections('reply-inbox');

describe('the reply inbox of a client', () => {
  it('reports and removes a corrupt reply batch, and delivers the valid replies after it', async () => {
    const folder = '/replies/client-1';
    await connections.zk.mkdirp(folder);
    const sequential = { mode: CreateMode.PERSISTENT_SEQUENTIAL };
    await connections.zk.create(`${folder}/m1-`, 'not a batch', sequential);
    await connections.zk.create(`${folder}/m1-`, encodeBatch([Buffer.from('reply')]), sequential);
    const delivered: string[] = [];
    const failures: unknown[] = [];
    const inbox = new ReplyInbox(
      connections.zk,
      folder,
      (reply) => delivered.push(reply.toString()),
      (error) => failures.push(error),
    );
    inbox.start();
    await until(() => delivered.length === 1, {
      message: () => `the valid reply; failures: ${failures.map(String).join('; ')}`,
    });
    expect(delivered).toEqual(['reply']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(CorruptBatchError);
    await until(async () => (await connections.zk.getChildren(folder)).length === 0, {
      message: 'both batches removed',
    });
    await inbox.close();
  });
});
