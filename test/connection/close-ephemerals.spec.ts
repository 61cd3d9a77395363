// `await connection.close()` promises that the session's ephemeral nodes are gone: an app that
// closes on shutdown lets the next instance take its lock or name at once. The native driver's
// close sends closeSession without waiting for the answer: there they go just after, long before
// the session timeout.
import { describe, expect, it } from '@jest/globals';
import { CreateMode } from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';
import { until } from '../support/until.js';

const connections = useTestConnections('close-ephemerals');

describe('close()', () => {
  it("resolves once the session's ephemeral nodes are gone", async () => {
    await connections.zk.mkdirp('/members');
    for (let round = 0; round < 5; round++) {
      const members = await Promise.all(Array.from({ length: 8 }, () => connections.open()));
      await Promise.all(
        members.map((member, i) =>
          member.create(`/members/r${round}-m${i}`, '', { mode: CreateMode.EPHEMERAL }),
        ),
      );
      await Promise.all(members.map((member) => member.close()));
      if (members[0].driver === 'wire') {
        expect(await connections.zk.getChildren('/members')).toEqual([]);
      } else {
        // Well within the 4 s session timeout of these connections.
        await until(async () => (await connections.zk.getChildren('/members')).length === 0, {
          message: 'the closed sessions ephemerals to go',
          timeoutMs: 1500,
        });
      }
    }
  });
});
