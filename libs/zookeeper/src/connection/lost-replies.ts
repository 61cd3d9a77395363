import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { CreateMode, isEphemeral } from './create-mode.enum.js';
import { DriverFailure } from '../driver/driver-failure.js';
import { DriverSession } from '../driver/driver-session.interface.js';
import { joinPath, nodeName, parentPath } from './paths.js';

/**
 * After a lost reply to a protected create (`_c_<uuid>-` name): the node an earlier attempt
 * created, if it is still there, found by its unique prefix. One that another client deleted
 * before this lookup (a queue consumer that took the item) leaves no trace and is not found, so
 * the caller creates it again: its data is then stored, and read, twice. An ephemeral one left
 * by a session that has since been replaced is deleted (it would vanish with that session) and
 * not reported, so the caller creates it again in the current session. Paths are server paths.
 *
 * The parent is synced first: the reply was lost, so the session never saw the create's zxid, and
 * the server it reconnected to may be a follower that has not applied it yet; a listing from it
 * would miss the node and the caller would create it a second time.
 */
export async function findProtectedCreate(
  session: DriverSession,
  protectedPath: string,
  mode: CreateMode,
): Promise<string | undefined> {
  const prefix = nodeName(protectedPath);
  const parent = parentPath(protectedPath);
  try {
    await session.sync(parent);
    const { children } = await session.getChildren(parent, false);
    const match = children.find((child) => child.startsWith(prefix));
    if (!match) return undefined;
    const serverPath = joinPath(parent, match);
    if (!isEphemeral(mode)) return serverPath;
    const stat = await session.exists(serverPath, false);
    if (stat.ephemeralOwner === session.credentials.id) return serverPath;
    await session.delete(serverPath, -1);
    return undefined;
  } catch (failure) {
    if (failure instanceof DriverFailure && failure.rc === Code.NO_NODE) return undefined;
    throw failure;
  }
}

/**
 * After a lost reply to a plain create, NodeExists may be our own create: the node is ours if our
 * session owns it (ephemeral), or if it is still at version 0 with exactly our bytes.
 */
export async function isOwnCreate(
  session: DriverSession,
  failure: unknown,
  serverPath: string,
  bytes: Buffer,
  mode: CreateMode,
): Promise<boolean> {
  if (!isExistsFailure(failure)) return false;
  const current = await session.get(serverPath, false);
  return isEphemeral(mode)
    ? current.stat.ephemeralOwner === session.credentials.id
    : current.stat.version === 0 && current.data.equals(bytes);
}

export function isExistsFailure(failure: unknown): boolean {
  return failure instanceof DriverFailure && failure.rc === Code.NODE_EXISTS;
}
