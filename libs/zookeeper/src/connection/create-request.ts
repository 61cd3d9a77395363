import { randomUUID } from 'node:crypto';
import { DriverFailure } from '../driver/driver-failure.js';
import { Acl } from '../driver/driver-types.js';
import { InvalidOptionsError } from '../errors/library-errors.js';
import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { CreateMode, isSequential, isTtl } from './create-mode.enum.js';
import { findProtectedCreate, isOwnCreate } from './lost-replies.js';
import { joinPath, nodeName, parentPath, validatePath } from './paths.js';
import { assertAcl, toBuffer } from './request-checks.js';
import { Attempt } from './request-executor.js';
import { CreateOptions } from './request-options.interface.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A checked create: what is sent, and whether it may be retried after a lost reply. */
export interface CreatePlan {
  readonly path: string;
  /** The path sent: `path`, or its protected `_c_<uuid>-` form. */
  readonly requestedPath: string;
  readonly bytes: Buffer;
  readonly mode: CreateMode;
  readonly options: CreateOptions;
  readonly isProtected: boolean;
  /** The ACL the node must end with (undefined: the server's open default). */
  readonly acl?: readonly Acl[];
  /** Protected and non-sequential creates can be recognised after a lost reply. */
  readonly retryable: boolean;
}

export function planCreate(
  path: string,
  data: Buffer | string,
  options: CreateOptions,
  defaultAcl: readonly Acl[] | undefined,
): CreatePlan {
  const mode = options.mode ?? CreateMode.PERSISTENT;
  validatePath(path, 'create', isSequential(mode));
  if (isTtl(mode) !== (options.ttlMs !== undefined)) {
    throw new InvalidOptionsError(
      `ttlMs must be given with the TTL create modes, and only with them (${path})`,
    );
  }
  const isProtected = options.protected ?? isSequential(mode);
  if (options.createId !== undefined && !UUID.test(options.createId)) {
    throw new InvalidOptionsError(`createId must be a lowercase uuid, got ${options.createId}`);
  }
  const acl = options.acl ?? defaultAcl;
  if (acl) assertAcl(acl, path);
  return {
    path,
    requestedPath: isProtected
      ? joinPath(parentPath(path), `_c_${options.createId ?? randomUUID()}-${nodeName(path)}`)
      : path,
    bytes: toBuffer(data),
    mode,
    options,
    isProtected,
    acl,
    retryable: isProtected || !isSequential(mode),
  };
}

/**
 * One try of a planned create. After a lost reply it first looks for the node an earlier try
 * made (protected name, or our own bytes at version 0), so a retry does not create it twice
 * while that node is still there; one that another client deleted in between is made again (see
 * findProtectedCreate).
 */
export function createAttempt(
  plan: CreatePlan,
  aclInRequest: boolean,
  toServerPath: (path: string) => string,
  mkdirp: (path: string) => Promise<void>,
): Attempt<string> {
  const { mode, bytes, options } = plan;
  const acl = aclInRequest ? plan.acl : undefined;
  const serverPath = toServerPath(plan.requestedPath);
  return async (session, isRetry) => {
    if (isRetry && plan.isProtected) {
      const found = await findProtectedCreate(session, serverPath, mode);
      if (found) return found;
    }
    try {
      try {
        return await session.create(serverPath, bytes, mode, options.ttlMs, acl);
      } catch (failure) {
        const missingParent = failure instanceof DriverFailure && failure.rc === Code.NO_NODE;
        if (!(options.createParents && missingParent)) throw failure;
        await mkdirp(parentPath(plan.requestedPath));
        return await session.create(serverPath, bytes, mode, options.ttlMs, acl);
      }
    } catch (failure) {
      if (
        isRetry &&
        !plan.isProtected &&
        (await isOwnCreate(session, failure, serverPath, bytes, mode))
      )
        return serverPath;
      throw failure;
    }
  };
}
