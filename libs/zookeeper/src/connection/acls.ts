import { createHash } from 'node:crypto';
import { Acl, Permission } from './zookeeper-types.js';

/** Anyone may do anything (ZooKeeper's OPEN_ACL_UNSAFE, the driver's default for every create). */
export const OPEN_ACL_UNSAFE: readonly Acl[] = [
  { perms: Permission.ALL, scheme: 'world', id: 'anyone' },
];

/** Anyone may read. */
export const READ_ACL_UNSAFE: readonly Acl[] = [
  { perms: Permission.READ, scheme: 'world', id: 'anyone' },
];

/** Full rights for the identities the session authenticated with (ZooKeeper's CREATOR_ALL_ACL). */
export const CREATOR_ALL_ACL: readonly Acl[] = [{ perms: Permission.ALL, scheme: 'auth', id: '' }];

/**
 * An ACL entry for a digest user, computed the way ZooKeeper's DigestAuthenticationProvider does
 * (`user:base64(sha1(user:password))`), so the password itself is never stored in the ACL.
 */
export function digestAcl(user: string, password: string, perms: number = Permission.ALL): Acl {
  const digest = createHash('sha1').update(`${user}:${password}`).digest('base64');
  return { perms, scheme: 'digest', id: `${user}:${digest}` };
}
