import { NodeExistsError, NoNodeError } from '../errors/zookeeper-errors.js';

/** For `.catch`: a missing node is what the caller wanted (or is fine with). */
export function ignoreNoNode(error: unknown): void {
  if (!(error instanceof NoNodeError)) throw error;
}

/** For `.catch`: an existing node is what the caller wanted. */
export function ignoreNodeExists(error: unknown): void {
  if (!(error instanceof NodeExistsError)) throw error;
}

/** For `.catch`: an existing node reads as `fallback`; any other error goes on. */
export function whenNodeExists<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof NodeExistsError) return fallback;
    throw error;
  };
}

/** For `.catch`: a missing node reads as `fallback`; any other error goes on. */
export function whenNoNode<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof NoNodeError) return fallback;
    throw error;
  };
}
