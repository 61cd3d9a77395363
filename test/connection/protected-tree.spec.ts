// Issue #15 (access control): an owner whose connection has digest credentials and defaultAcl
// CREATOR_ALL_ACL protects everything the library creates for it, from its namespace down
// (storage heads, chunk folders and chunks, flags, recipe nodes, transport folders, parents made
// by mkdirp/createParents), and a client without credentials, or with wrong ones, can neither
// read, write nor delete any of it: NoAuthError, through the raw calls and the library's APIs.
// Runs on both drivers (on native the ACL comes from a setAcl right after each create).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { filter, firstValueFrom } from 'rxjs';
import {
  Barrier,
  ConnectionState,
  CreateMode,
  DoubleBarrier,
  LeaderElection,
  Membership,
  Mutex,
  PersistentEphemeralNode,
  ReadWriteLock,
  Semaphore,
  ServiceRegistry,
  SharedCounter,
  ZookeeperConnection,
  ZookeeperStorage,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { ClientZookeeper } from 'nestjs-zookeeper/transport';
import { useTestConnections } from '../support/connect.js';
import {
  describeIntruders,
  expectLockedOut,
  expectNoAuth,
  OWNER_AUTH,
  OWNER_OPTIONS,
  walkTree,
  wrongAcls,
} from '../support/protection.js';

const connections = useTestConnections('protected-tree');
/** The owner's namespace, below the file's (open) one: `owned` and `app` are created by it. */
const APP = '/owned/app';
const BIG = 'x'.repeat(5000);

let owner: ZookeeperConnection;
/** The owner's credentials in the file's namespace, to inspect `/owned` and below. */
let admin: ZookeeperConnection;
const closers: Array<() => Promise<unknown>> = [];
let election: LeaderElection;
let mutex: Mutex;

beforeAll(async () => {
  owner = await connections.open({ namespace: connections.namespace + APP, ...OWNER_OPTIONS });
  admin = await connections.open({ auth: OWNER_AUTH });

  const storage = new ZookeeperStorage(owner, { maxNodeBytes: 1024 });
  closers.push(async () => storage.close());
  await storage.set('small', { secret: 1 });
  await storage.set('big', BIG); // chunked: a flag, container folders, chunks
  await storage.set('deep/er/key', 'nested'); // parents by createParents
  await storage.set('session/small', 's', { ephemeral: true });
  await storage.set('session/big', BIG, { ephemeral: true }); // ephemeral chunks
  await storage.set('ttl/small', 't', { ttlMs: 600_000 });
  await storage.set('ttl/big', BIG, { ttlMs: 600_000 }); // TTL chunks
  await storage.set('big', `${BIG}y`); // a second generation, the first collected

  election = new LeaderElection(owner, '/election', { participantId: 'owner' });
  closers.push(() => election.close());
  await election.start();
  mutex = new Mutex(owner, '/locks/mutex');
  await mutex.acquire();
  closers.push(() => mutex.release());
  const rw = new ReadWriteLock(owner, '/locks/rw');
  await rw.readLock.acquire();
  closers.push(() => rw.readLock.release());
  const lease = await new Semaphore(owner, '/limits/exports', 2).acquire();
  closers.push(() => lease.release());
  await new Barrier(owner, '/gates/migration').set();
  const round = new DoubleBarrier(owner, '/rounds/1', 1);
  await round.enter();
  await new SharedCounter(owner, '/counters/batches').increment();
  const membership = new Membership(owner);
  closers.push(() => membership.leave());
  await membership.join('/workers', { pid: 1 });
  const registry = new ServiceRegistry(owner);
  closers.push(() => registry.close());
  await registry.register({ name: 'orders', address: '10.0.0.5', port: 8080 });
  const presence = new PersistentEphemeralNode(owner, '/presence/worker-7', 'busy');
  closers.push(() => presence.close());
  await presence.start();
  const client = new ClientZookeeper({ connection: owner, root: '/svc' });
  closers.push(() => client.close());
  await client.connect();
  await owner.create('/plain/parents/made/by/create', 'x', { createParents: true });
  await owner.mkdirp('/plain/mkdirp/deep');
  await owner.create('/plain/seq-', 'x', {
    mode: CreateMode.EPHEMERAL_SEQUENTIAL,
    createParents: true,
  });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

it('every node the library created carries the ACL, from the namespace root down', async () => {
  const nodes = await walkTree(admin, '/owned');
  // The tree holds what was created above (a sanity check of the walk itself).
  expect(nodes.length).toBeGreaterThan(40);
  expect(nodes).toEqual(
    expect.arrayContaining([
      '/owned',
      `${APP}/storage/small`,
      `${APP}/election`,
      `${APP}/locks/mutex`,
      `${APP}/svc`,
      `${APP}/plain/mkdirp/deep`,
    ]),
  );
  expect(await wrongAcls(admin, '/owned')).toEqual([]);
  // aversion counts ACL changes: on wire every node (chunks and ephemeral nodes included) was
  // born protected; on native each was created open and restricted by a setAcl right after it.
  const aversions = new Set<number>();
  for (const path of nodes) {
    const stat = await admin.exists(path);
    if (stat) aversions.add(stat.aversion);
  }
  expect([...aversions]).toEqual([owner.capabilities.createWithAcl ? 0 : 1]);
});

it('a client that cannot create in the namespace still connects to it (the namespace exists)', async () => {
  const states: string[] = [];
  const errors: unknown[] = [];
  const reader = await connections.open({
    namespace: connections.namespace + APP,
    logger: {
      log: () => undefined,
      warn: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
      error: (message: unknown) => errors.push(message),
    },
  });
  states.push(reader.state);
  expect(states).toEqual(['CONNECTED']);
  // Its session's preparation met NoAuth on the existing namespace nodes: no error for that.
  expect(errors).toEqual([]);
  await expectNoAuth(reader.get('/storage/small'));
});

describeIntruders(connections, APP, (intruder) => {
  it('gets NoAuthError for every read, write and delete of every node, raw', async () => {
    const nodes = await walkTree(admin, '/owned');
    // `/owned` itself sits in an open folder: deleting it is refused as NotEmpty, not NoAuth.
    for (const path of nodes.filter((node) => node !== '/owned')) {
      await expectLockedOut(intruder.raw, admin, path);
    }
    await expectNoAuth(intruder.raw.get('/owned'));
    await expectNoAuth(intruder.raw.getChildren('/owned'));
    await expectNoAuth(intruder.raw.set('/owned', 'x'));
    await expectNoAuth(intruder.raw.create('/owned/intruder', 'x'));
  });

  it('gets NoAuthError from the storage: values small and chunked, writes, deletes, lists', async () => {
    const storage = new ZookeeperStorage(intruder.inApp, { maxNodeBytes: 1024 });
    try {
      await expectNoAuth(storage.get('small'));
      await expectNoAuth(storage.get('big'));
      await expectNoAuth(storage.get('session/big'));
      await expectNoAuth(storage.set('small', 'overwritten'));
      await expectNoAuth(storage.set('big', 'overwritten'));
      await expectNoAuth(storage.set('fresh', 'x'));
      await expectNoAuth(storage.set('fresh-big', BIG));
      await expectNoAuth(storage.delete('small'));
      await expectNoAuth(storage.delete('big'));
      await expectNoAuth(storage.list());
      await expectNoAuth(storage.increment('counter'));
    } finally {
      await storage.close();
    }
    const ownerStorage = new ZookeeperStorage(owner, { maxNodeBytes: 1024 });
    expect(await ownerStorage.getValue('small')).toEqual({ secret: 1 });
    expect(await ownerStorage.getValue('big')).toBe(`${BIG}y`);
    await ownerStorage.close();
  });

  it('gets NoAuthError from the lock and the election, which the owner keeps', async () => {
    const other = new LeaderElection(intruder.inApp, '/election', { participantId: 'intruder' });
    await expectNoAuth(other.participants());
    await expectNoAuth(other.start());
    await other.close();
    const lock = new Mutex(intruder.inApp, '/locks/mutex');
    await expectNoAuth(lock.acquire({ timeoutMs: 1000 }));
    expect(election.isLeader).toBe(true);
    expect((await election.participants()).map((p) => p.id)).toEqual(['owner']);
    expect(mutex.isHeld).toBe(true);
  });
});

// Last: it expires the owner's session (the lock and the election above go with it).
it('requests made while a new session connects go out with its credentials (no NoAuth)', async () => {
  const storage = new ZookeeperStorage(owner, { maxNodeBytes: 1024 });
  // Made the moment the old session is declared expired: they wait for the new session, which
  // must have its credentials before they are sent.
  const reads = firstValueFrom(
    owner.state$.pipe(filter((state) => state === ConnectionState.EXPIRED)),
  ).then(() => Promise.all([storage.getValue('small'), owner.get('/storage/small')]));
  await expireSession(owner);
  const [value, raw] = await reads;
  expect(value).toEqual({ secret: 1 });
  expect(JSON.parse(raw.data.toString())).toEqual({ secret: 1 });
  storage.close();
});
