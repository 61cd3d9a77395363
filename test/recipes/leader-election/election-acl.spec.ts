// A create whose ACL the server refuses must leave nothing behind. The native driver cannot send
// the ACL with the create: it creates an open node, then sets the ACL; if that fails, the open node
// must go, or an election or lock node would hold up everyone behind it for the whole session.
import { describe, expect, it } from '@jest/globals';
import { CREATOR_ALL_ACL, InvalidAclError, LeaderElection } from 'nestjs-zookeeper';
import { silentLogger, useTestConnections } from '../../support/connect.js';

const connections = useTestConnections('election-acl');

/** A logger that keeps what the election reports. */
function recordingLogger(lines: string[]) {
  const keep = (message: unknown) => void lines.push(String(message));
  return { ...silentLogger, log: keep, warn: keep, error: keep };
}

describe('a create whose ACL is refused (defaultAcl needing credentials the session lacks)', () => {
  it('leaves no open node behind', async () => {
    const zk = await connections.open({ defaultAcl: CREATOR_ALL_ACL });
    await connections.zk.mkdirp('/plain');
    await expect(zk.create('/plain/refused', 'x')).rejects.toBeInstanceOf(InvalidAclError);
    expect(await connections.zk.exists('/plain/refused')).toBeUndefined();
  });

  it('makes an election fail to start, with no orphan candidate node and no retry loop', async () => {
    await connections.zk.mkdirp('/election');
    const zk = await connections.open({ defaultAcl: CREATOR_ALL_ACL });
    const lines: string[] = [];
    const election = new LeaderElection(zk, '/election', {
      participantId: 'refused',
      logger: recordingLogger(lines),
    });
    await expect(election.start()).rejects.toBeInstanceOf(InvalidAclError);
    // Past two retry periods of the election (1 s each).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await connections.zk.getChildren('/election')).toEqual([]);
    expect(lines.filter((line) => line.includes('retrying'))).toEqual([]);
    expect(election.isLeader).toBe(false);
    await election.close();
  });
});
