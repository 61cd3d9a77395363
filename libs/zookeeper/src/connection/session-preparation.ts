import { DriverFailure } from '../driver/driver-failure.js';
import { DriverSession } from '../driver/driver-session.interface.js';
import { Acl } from '../driver/driver-types.js';
import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { CreateMode } from './create-mode.enum.js';
import { isExistsFailure } from './lost-replies.js';
import { AuthInfo } from './zookeeper-types.js';

/** How the namespace nodes are created: with the connection's defaultAcl, if any. */
export interface NamespaceAcl {
  readonly acl?: readonly Acl[];
  /** The driver sends the ACL with the create; otherwise a setAcl follows it. */
  readonly inRequest: boolean;
}

/**
 * What every new session gets before it is announced: the credentials, then the namespace, its
 * missing nodes created with `defaultAcl` (so a protected tree is protected from its root). A
 * namespace node that exists but sits in a folder this session may not create in (NoAuth before
 * NodeExists: the server checks the parent's ACL first) is fine: it exists.
 */
export async function prepareSession(
  session: DriverSession,
  auth: readonly AuthInfo[],
  namespace: string,
  namespaceAcl: NamespaceAcl = { inRequest: true },
): Promise<void> {
  await Promise.all(auth.map(({ scheme, credentials }) => session.addAuth(scheme, credentials)));
  if (!namespace) return;
  const { acl, inRequest } = namespaceAcl;
  const segments = namespace.split('/').filter(Boolean);
  for (let depth = 1; depth <= segments.length; depth++) {
    const path = `/${segments.slice(0, depth).join('/')}`;
    const created = await session
      .create(path, Buffer.alloc(0), CreateMode.PERSISTENT, undefined, inRequest ? acl : undefined)
      .then(
        () => true,
        async (failure: unknown) => {
          if (isExistsFailure(failure)) return false;
          if (isNoAuth(failure) && (await existsOn(session, path))) return false;
          throw failure;
        },
      );
    if (created && acl && !inRequest) await restrictOn(session, path, acl);
  }
}

/** The follow-up setAcl of a namespace node on a driver without create-with-ACL. */
async function restrictOn(session: DriverSession, path: string, acl: readonly Acl[]) {
  try {
    await session.setAcl(path, acl, -1);
  } catch (failure) {
    await session.delete(path, 0).catch(() => undefined);
    throw failure;
  }
}

function isNoAuth(failure: unknown): boolean {
  return failure instanceof DriverFailure && failure.rc === Code.NO_AUTH;
}

/** `exists` needs no permission: it tells whether a create refused for NoAuth had anything to do. */
function existsOn(session: DriverSession, path: string): Promise<boolean> {
  return session.exists(path, false).then(
    () => true,
    (failure: unknown) => {
      if (failure instanceof DriverFailure && failure.rc === Code.NO_NODE) return false;
      throw failure;
    },
  );
}
