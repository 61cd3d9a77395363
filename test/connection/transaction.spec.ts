import { describe, expect, it } from '@jest/globals';
import {
  BadVersionError,
  CapabilityMissingError,
  CreateMode,
  digestAcl,
  InvalidOptionsError,
  NodeExistsError,
  NoAuthError,
  TransactionFailedError,
  ZookeeperErrorCode,
} from 'nestjs-zookeeper';
import { useTestConnections } from '../support/connect.js';

const connections = useTestConnections('transaction');

/** Runs `body` on a driver with transactions; on one without, checks the typed refusal. */
async function withMulti(body: () => Promise<void>): Promise<void> {
  const { zk } = connections;
  if (zk.capabilities.multi) return body();
  const refused = zk.transaction().create('/never').commit();
  await expect(refused).rejects.toBeInstanceOf(CapabilityMissingError);
  await expect(refused).rejects.toThrow(/multi needs a driver with 'multi'.*'native'/);
  expect(await zk.exists('/never')).toBeUndefined();
}

describe('ZookeeperConnection.multi / transaction', () => {
  it('applies every operation, with a result per operation', () =>
    withMulti(async () => {
      const { zk } = connections;
      await zk.create('/tx-ok', 'old');
      await zk.create('/tx-ok-gone');
      const results = await zk
        .transaction()
        .check('/tx-ok', 0)
        .set('/tx-ok', 'new', { version: 0 })
        .create('/tx-ok/child', 'c')
        .create('/tx-ok/seq-', 's', { mode: CreateMode.PERSISTENT_SEQUENTIAL })
        .delete('/tx-ok-gone')
        .commit();
      expect(results.map((result) => result.type)).toEqual([
        'check',
        'set',
        'create',
        'create',
        'delete',
      ]);
      expect(results[1]).toMatchObject({ type: 'set', stat: { version: 1 } });
      // Paths come back as the caller writes them (without the connection's namespace).
      expect(results[2]).toEqual({ type: 'create', path: '/tx-ok/child' });
      expect(results[3]).toMatchObject({ path: expect.stringMatching(/^\/tx-ok\/seq-\d{10}$/) });
      expect((await zk.get('/tx-ok')).data.toString()).toBe('new');
      expect(await zk.getChildren('/tx-ok')).toHaveLength(2);
      expect(await zk.exists('/tx-ok-gone')).toBeUndefined();
    }));

  it('applies nothing when one operation fails, and names the one that failed', () =>
    withMulti(async () => {
      const { zk } = connections;
      await zk.create('/tx-fail', 'v0');
      await zk.create('/tx-fail-taken');
      const failing = zk.multi([
        { type: 'create', path: '/tx-fail/a' },
        { type: 'set', path: '/tx-fail', data: 'v1' },
        { type: 'check', path: '/tx-fail', version: 7 },
        { type: 'create', path: '/tx-fail-taken' },
      ]);
      const error = (await failing.catch((caught: unknown) => caught)) as TransactionFailedError;
      expect(error).toBeInstanceOf(TransactionFailedError);
      expect(error.index).toBe(2);
      expect(error.failure).toBeInstanceOf(BadVersionError);
      expect(error.code).toBe(ZookeeperErrorCode.BAD_VERSION);
      expect(error.codes).toHaveLength(4);
      expect(error.codes[2]).toBe(ZookeeperErrorCode.BAD_VERSION);
      expect(error.message).toMatch(/operation 2 failed with BadVersionError/);
      // Nothing of the first two operations is visible.
      expect(await zk.exists('/tx-fail/a')).toBeUndefined();
      expect((await zk.get('/tx-fail')).data.toString()).toBe('v0');

      const exists = await zk
        .transaction()
        .create('/tx-fail/b')
        .create('/tx-fail-taken')
        .commit()
        .catch((caught: unknown) => caught);
      expect(exists).toBeInstanceOf(TransactionFailedError);
      expect((exists as TransactionFailedError).failure).toBeInstanceOf(NodeExistsError);
      expect(await zk.exists('/tx-fail/b')).toBeUndefined();
    }));

  it('creates with the ACL in the request: the node never has another', () =>
    withMulti(async () => {
      const { zk } = connections;
      const acl = [digestAcl('tx-user', 'secret')];
      await zk.transaction().create('/tx-acl', 'private', { acl }).commit();
      expect((await zk.getAcl('/tx-acl').catch((error: unknown) => error)) as Error).toBeInstanceOf(
        NoAuthError,
      );
    }));

  it('refuses bad operations before anything is sent', async () => {
    const { zk } = connections;
    await expect(zk.multi([])).rejects.toThrow(/at least one operation/);
    await expect(zk.multi([{ type: 'check', path: '/x' } as never])).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
    await expect(zk.multi([{ type: 'rename', path: '/x' } as never])).rejects.toThrow(
      /type "rename": use 'create', 'delete', 'set' or 'check'/,
    );
    await expect(zk.multi([{ type: 'set', path: '/x', data: 'd', version: 1.5 }])).rejects.toThrow(
      /version 1.5/,
    );
  });
});
