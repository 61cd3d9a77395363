// Helpers of the protected-tree tests: an owner identity whose connection protects everything it
// creates (digest credentials, defaultAcl CREATOR_ALL_ACL), intruders, and a walk of the tree.
import { beforeAll, describe, expect } from '@jest/globals';
import {
  Acl,
  AuthInfo,
  CREATOR_ALL_ACL,
  digestAcl,
  joinPath,
  NoAuthError,
  NoNodeError,
  ZookeeperConnection,
  ZookeeperOptions,
} from 'nestjs-zookeeper';
import { TestConnections } from './connect.js';

export const OWNER_AUTH: AuthInfo[] = [{ scheme: 'digest', credentials: 'owner:right' }];

/** What CREATOR_ALL_ACL becomes on the server for the owner's session. */
export const OWNER_ACL: Acl[] = [digestAcl('owner', 'right')];

/** The options of the owner's connection: credentials, and everything it creates protected. */
export const OWNER_OPTIONS: Partial<ZookeeperOptions> = {
  auth: OWNER_AUTH,
  defaultAcl: CREATOR_ALL_ACL,
};

/** A client without credentials, and one with the owner's user name and a wrong password. */
export const INTRUDERS: ReadonlyArray<{ label: string; options: Partial<ZookeeperOptions> }> = [
  { label: 'no credentials', options: {} },
  {
    label: 'a wrong digest password',
    options: { auth: [{ scheme: 'digest', credentials: 'owner:wrong' }] },
  },
];

/**
 * Every node at and below `root` as `connection` sees them (a node deleted during the walk is
 * left out).
 */
export async function walkTree(connection: ZookeeperConnection, root: string): Promise<string[]> {
  const found = [root];
  const children = await connection.getChildren(root).catch((error: unknown) => {
    if (error instanceof NoNodeError) return [] as string[];
    throw error;
  });
  for (const child of children) found.push(...(await walkTree(connection, joinPath(root, child))));
  return found;
}

/** The nodes at and below `root` whose ACL is not `expected` (with the ACL they have). */
export async function wrongAcls(
  connection: ZookeeperConnection,
  root: string,
  expected: readonly Acl[] = OWNER_ACL,
): Promise<Array<{ path: string; acl: Acl[] }>> {
  const wrong: Array<{ path: string; acl: Acl[] }> = [];
  for (const path of await walkTree(connection, root)) {
    const acl = await connection
      .getAcl(path)
      .then((result) => result.acl)
      .catch((error: unknown) => {
        if (error instanceof NoNodeError) return undefined; // gone meanwhile
        throw error;
      });
    if (acl && JSON.stringify(acl) !== JSON.stringify(expected)) wrong.push({ path, acl });
  }
  return wrong;
}

/**
 * Every raw request an intruder can make on a protected node: read its data and children, write
 * it, create a child, delete it. Each must fail with NoAuthError (NoNodeError only for a node that
 * `owner` finds gone, e.g. a lock released meanwhile).
 */
export async function expectLockedOut(
  intruder: ZookeeperConnection,
  owner: ZookeeperConnection,
  path: string,
): Promise<void> {
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['get', () => intruder.get(path)],
    ['getChildren', () => intruder.getChildren(path)],
    ['set', () => intruder.set(path, 'intruder')],
    ['create under', () => intruder.create(joinPath(path, 'intruder'), 'x')],
    ['delete', () => intruder.delete(path)],
  ];
  for (const [operation, attempt] of attempts) {
    const outcome = await attempt().then(
      () => 'succeeded',
      (error: unknown) => error,
    );
    if (outcome instanceof NoNodeError && !(await owner.exists(path))) continue;
    expect({ path, operation, outcome: outcomeText(outcome) }).toEqual({
      path,
      operation,
      outcome: 'NoAuthError',
    });
  }
}

/** Fails unless `promise` rejects with NoAuthError. */
export async function expectNoAuth(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(NoAuthError);
}

function outcomeText(outcome: unknown): string {
  if (outcome instanceof NoAuthError) return 'NoAuthError';
  if (outcome instanceof Error) return `${outcome.name}: ${outcome.message}`;
  return String(outcome);
}

/** Opens an intruder connection in `namespace` for each of INTRUDERS. */
export function openIntruders(
  connections: TestConnections,
  namespace: string,
): Promise<Array<{ label: string; connection: ZookeeperConnection }>> {
  return Promise.all(
    INTRUDERS.map(async ({ label, options }) => ({
      label,
      connection: await connections.open({ namespace, ...options }),
    })),
  );
}

/** An intruder's connections: `raw` in the test file's namespace, `inApp` in the owner's below it. */
export interface IntruderConnections {
  raw: ZookeeperConnection;
  inApp: ZookeeperConnection;
}

/**
 * Declares `body`'s tests once for each of INTRUDERS ('an intruder with <label>'), its
 * connections opened before them: `raw` in the test file's namespace, `inApp` in the owner's
 * namespace `app` below it.
 */
export function describeIntruders(
  connections: TestConnections,
  app: string,
  body: (intruder: Readonly<IntruderConnections>) => void,
): void {
  describe.each(INTRUDERS.map(({ label, options }) => [label, options] as const))(
    'an intruder with %s',
    (_label, options) => {
      const intruder = {} as IntruderConnections;
      beforeAll(async () => {
        intruder.raw = await connections.open(options);
        intruder.inApp = await connections.open({
          namespace: connections.namespace + app,
          ...options,
        });
      });
      body(intruder);
    },
  );
}
